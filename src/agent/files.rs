//! Secrets and configs as files inside a task's container.
//!
//! Each is written under `<files root>/<task id>/` — a tmpfs (`/dev/shm` by default), so a
//! secret never lands on a disk in clear — with the reference's mode, uid and gid, rendered
//! first when it is templated, and bind-mounted read-only at its target: `/run/secrets/<name>`
//! for a secret with a relative target, `/<name>` for a config. The directory goes with the
//! task.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::container::{container_spec, FileMount};
use super::template::{Payload, TemplateContext};
use crate::types::dispatch::Assignment;
use crate::types::meta::Driver;

const SECRETS_DIR: &str = "/run/secrets";
const DEFAULT_MODE: u32 = 0o444;

/// One file to write.
struct Wanted<'a> {
    kind: &'static str,
    id: &'a str,
    data: &'a [u8],
    templated: bool,
    target: String,
    uid: &'a str,
    gid: &'a str,
    mode: u32,
}

impl<'a> Wanted<'a> {
    fn new(
        kind: &'static str,
        id: &'a str,
        data: &'a [u8],
        templating: Option<&Driver>,
        target: String,
        (uid, gid, mode): (&'a str, &'a str, u32),
    ) -> Self {
        Wanted {
            kind,
            id,
            data,
            templated: templating.is_some_and(|t| !t.name.is_empty()),
            target,
            uid,
            gid,
            mode: match mode {
                0 => DEFAULT_MODE,
                mode => mode,
            },
        }
    }
}

/// The task's directory of files.
pub fn task_dir(root: &Path, task_id: &str) -> PathBuf {
    root.join(task_id)
}

/// Writes the task's secrets and configs; answers the mounts the container needs.
pub fn write_task_files(
    root: &Path,
    assignment: &Assignment,
    context: &TemplateContext,
) -> Result<Vec<FileMount>, String> {
    let spec = container_spec(&assignment.task)?;
    if spec.secrets.is_empty() && spec.configs.is_empty() {
        return Ok(Vec::new());
    }
    let mut wanted = Vec::new();
    let mut secret_payloads: BTreeMap<&str, &[u8]> = BTreeMap::new();
    let mut config_payloads: BTreeMap<&str, &[u8]> = BTreeMap::new();
    for reference in &spec.secrets {
        let Some(file) = &reference.file else {
            continue;
        };
        let secret = assignment
            .secrets
            .iter()
            .find(|s| s.id == reference.secret_id)
            .ok_or_else(|| format!("secret {} not found", reference.secret_name))?;
        let data = secret.spec.data.as_deref().unwrap_or_default();
        secret_payloads.insert(file.name.as_str(), data);
        let target = if file.name.starts_with('/') {
            file.name.clone()
        } else {
            format!("{SECRETS_DIR}/{}", file.name)
        };
        let templating = secret.spec.templating.as_ref();
        let owner = (file.uid.as_str(), file.gid.as_str(), file.mode);
        wanted.push(Wanted::new(
            "secrets", &secret.id, data, templating, target, owner,
        ));
    }
    for reference in &spec.configs {
        let Some(file) = &reference.file else {
            continue;
        };
        let config = assignment
            .configs
            .iter()
            .find(|c| c.id == reference.config_id)
            .ok_or_else(|| format!("config {} not found", reference.config_name))?;
        config_payloads.insert(file.name.as_str(), &config.spec.data);
        let target = if file.name.starts_with('/') {
            file.name.clone()
        } else {
            format!("/{}", file.name)
        };
        let templating = config.spec.templating.as_ref();
        let data = config.spec.data.as_slice();
        let owner = (file.uid.as_str(), file.gid.as_str(), file.mode);
        wanted.push(Wanted::new(
            "configs", &config.id, data, templating, target, owner,
        ));
    }
    let env: Vec<String> = spec
        .env
        .iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => format!("{k}={}", context.expand(v).unwrap_or_else(|_| v.into())),
            None => e.clone(),
        })
        .collect();
    let payload = Payload {
        secrets: secret_payloads,
        configs: config_payloads,
        env: &env,
    };

    let dir = task_dir(root, &assignment.task.id);
    create_private_dir(root)?;
    create_private_dir(&dir)?;
    let mut mounts = Vec::with_capacity(wanted.len());
    for (index, file) in wanted.iter().enumerate() {
        let rendered;
        let data = if file.templated {
            rendered = context
                .expand_payload(&String::from_utf8_lossy(file.data), &payload)
                .map_err(|e| format!("failed to render {} {}: {e}", file.kind, file.id))?;
            rendered.as_bytes()
        } else {
            file.data
        };
        let path = dir.join(format!("{}-{}-{index}", file.kind, file.id));
        write_file(&path, data, file.mode, file.uid, file.gid)?;
        mounts.push(FileMount {
            source: path,
            target: file.target.clone(),
        });
    }
    Ok(mounts)
}

fn create_private_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn write_file(path: &Path, data: &[u8], mode: u32, uid: &str, gid: &str) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    file.write_all(data).map_err(fail)?;
    let parse = |id: &str| -> Result<Option<u32>, String> {
        if id.is_empty() {
            return Ok(None);
        }
        id.parse()
            .map(Some)
            .map_err(|_| format!("invalid uid or gid {id:?}"))
    };
    let (uid, gid) = (parse(uid)?, parse(gid)?);
    if uid.is_some() || gid.is_some() {
        // Without the privilege to give files away, keep shoal's own ownership (the mode
        // still applies); a swarm node always runs as root.
        if let Err(error) = std::os::unix::fs::chown(path, uid, gid) {
            tracing::warn!(path = %path.display(), %error, "cannot set the owner of a secret or config file");
        }
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o7777)).map_err(fail)
}

/// Removes the task's files; missing is fine.
pub fn remove_task_files(root: &Path, task_id: &str) {
    let dir = task_dir(root, task_id);
    if let Err(error) = std::fs::remove_dir_all(&dir) {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(dir = %dir.display(), %error, "cannot remove a task's files");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::config::{Config, ConfigReference, ConfigReferenceFileTarget, ConfigSpec};
    use crate::types::container_spec::ContainerSpec;
    use crate::types::meta::Driver;
    use crate::types::secret::{Secret, SecretReference, SecretReferenceFileTarget, SecretSpec};

    #[test]
    fn secrets_and_configs_are_written_with_their_modes_and_rendered() {
        let root = tempfile::tempdir().unwrap();
        let spec = ContainerSpec {
            image: "img".into(),
            secrets: vec![SecretReference {
                file: Some(SecretReferenceFileTarget {
                    name: "db_pw".into(),
                    uid: "0".into(),
                    gid: "0".into(),
                    mode: 0o400,
                }),
                secret_id: "sec1".into(),
                secret_name: "db_pw".into(),
            }],
            configs: vec![ConfigReference {
                file: Some(ConfigReferenceFileTarget {
                    name: "/etc/app.conf".into(),
                    uid: String::new(),
                    gid: String::new(),
                    mode: 0o444,
                }),
                config_id: "cfg1".into(),
                config_name: "app".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut a = super::super::container::tests::assignment(spec);
        a.secrets = vec![Secret {
            id: "sec1".into(),
            spec: SecretSpec {
                name: "db_pw".into(),
                data: Some(b"hunter2".to_vec()),
                ..Default::default()
            },
            ..Default::default()
        }];
        a.configs = vec![Config {
            id: "cfg1".into(),
            spec: ConfigSpec {
                name: "app".into(),
                data: br#"svc={{.Service.Name}} pw={{secret "db_pw"}}"#.to_vec(),
                templating: Some(Driver {
                    name: "golang".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        }];
        let context = TemplateContext {
            service_name: "web".into(),
            ..Default::default()
        };
        let mounts = write_task_files(root.path(), &a, &context).unwrap();
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].target, "/run/secrets/db_pw");
        assert_eq!(std::fs::read(&mounts[0].source).unwrap(), b"hunter2");
        let mode = std::fs::metadata(&mounts[0].source)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o400);
        assert_eq!(mounts[1].target, "/etc/app.conf");
        assert_eq!(
            std::fs::read_to_string(&mounts[1].source).unwrap(),
            "svc=web pw=hunter2"
        );
        remove_task_files(root.path(), "t1");
        assert!(!task_dir(root.path(), "t1").exists());
    }
}
