//! The placeholders the engine expands in a task's hostname, env values and mount sources
//! (`{{.Service.Name}}`, `{{.Task.Slot}}`, `{{.Node.Hostname}}`, `{{index .Service.Labels "k"}}`)
//! and, for templated secrets and configs, in their payload (`{{secret "target"}}`,
//! `{{config "target"}}`, `{{env "VAR"}}`). This is the subset of Go's text/template that swarm
//! documents: field paths, `index`, `join` and those three functions, with `{{-`/`-}}` trimming.
//! Anything else is an error, which rejects the task, as the engine's parser would.

use std::collections::BTreeMap;

/// What a template may read.
#[derive(Debug, Clone, Default)]
pub struct TemplateContext {
    pub service_id: String,
    pub service_name: String,
    pub service_labels: BTreeMap<String, String>,
    pub node_id: String,
    pub node_hostname: String,
    pub node_os: String,
    pub node_arch: String,
    pub task_id: String,
    pub task_name: String,
    /// The slot, or the node ID for global tasks.
    pub task_slot: String,
}

/// What payload templates may read besides the context: the task's secrets and configs by
/// target, and its environment.
#[derive(Debug, Clone, Default)]
pub struct Payload<'a> {
    pub secrets: BTreeMap<&'a str, &'a [u8]>,
    pub configs: BTreeMap<&'a str, &'a [u8]>,
    pub env: &'a [String],
}

/// A value a pipeline produced.
enum Value<'a> {
    Text(String),
    Map(&'a BTreeMap<String, String>),
}

impl Value<'_> {
    fn render(self) -> String {
        match self {
            Value::Text(text) => text,
            Value::Map(map) => {
                // Go prints maps sorted by key: map[a:1 b:2].
                let items: Vec<String> = map.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("map[{}]", items.join(" "))
            }
        }
    }
}

impl TemplateContext {
    /// Expands `text`; text without `{{` comes back unchanged.
    pub fn expand(&self, text: &str) -> Result<String, String> {
        self.expand_with(text, None)
    }

    /// Expands a secret's or config's payload.
    pub fn expand_payload(&self, text: &str, payload: &Payload<'_>) -> Result<String, String> {
        self.expand_with(text, Some(payload))
    }

    fn expand_with(&self, text: &str, payload: Option<&Payload<'_>>) -> Result<String, String> {
        if !text.contains("{{") {
            return Ok(text.to_string());
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let mut literal = &rest[..start];
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| format!("template: unclosed action in {text:?}"))?;
            let mut action = &after[..end];
            if let Some(trimmed) = action.strip_prefix('-') {
                literal = literal.trim_end();
                action = trimmed;
            }
            let mut trim_next = false;
            if let Some(trimmed) = action.strip_suffix('-') {
                trim_next = true;
                action = trimmed;
            }
            out.push_str(literal);
            out.push_str(&self.evaluate(action.trim(), payload)?.render());
            rest = &after[end + 2..];
            if trim_next {
                rest = rest.trim_start();
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    fn evaluate<'s>(
        &'s self,
        action: &str,
        payload: Option<&Payload<'_>>,
    ) -> Result<Value<'s>, String> {
        let words = split_words(action)?;
        let Some((head, args)) = words.split_first() else {
            return Err("template: empty action".into());
        };
        if head.starts_with('.') {
            if !args.is_empty() {
                return Err(format!("template: {head} is not a function"));
            }
            return self.field(head);
        }
        let text_args = |from: usize| -> Result<Vec<String>, String> {
            args[from..]
                .iter()
                .map(|a| self.argument(a).map(Value::render))
                .collect()
        };
        match head.as_str() {
            "index" => {
                let [map, key] = args else {
                    return Err("template: index takes a map and a key".into());
                };
                let Value::Map(map) = self.argument(map)? else {
                    return Err(format!("template: cannot index {map}"));
                };
                let key = self.argument(key)?.render();
                Ok(Value::Text(map.get(&key).cloned().unwrap_or_default()))
            }
            "join" => {
                let parts = text_args(0)?;
                let Some((separator, items)) = parts.split_first() else {
                    return Err("template: join takes a separator".into());
                };
                Ok(Value::Text(items.join(separator)))
            }
            "secret" | "config" | "env" => {
                let payload =
                    payload.ok_or_else(|| format!("template: function {head:?} not defined"))?;
                let [name] = text_args(0)?
                    .try_into()
                    .map_err(|_| format!("template: {head} takes one argument"))?;
                let found = match head.as_str() {
                    "secret" => payload
                        .secrets
                        .get(name.as_str())
                        .map(|d| String::from_utf8_lossy(d).into_owned())
                        .ok_or_else(|| format!("secret target {name} not found")),
                    "config" => payload
                        .configs
                        .get(name.as_str())
                        .map(|d| String::from_utf8_lossy(d).into_owned())
                        .ok_or_else(|| format!("config target {name} not found")),
                    _ => Ok(payload
                        .env
                        .iter()
                        .filter_map(|e| e.split_once('='))
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| v.to_string())
                        .unwrap_or_default()),
                };
                found.map(Value::Text)
            }
            other => Err(format!("template: function {other:?} not defined")),
        }
    }

    fn argument<'s>(&'s self, word: &str) -> Result<Value<'s>, String> {
        if let Some(text) = unquote(word) {
            return Ok(Value::Text(text));
        }
        if word.starts_with('.') {
            return self.field(word);
        }
        Err(format!("template: unexpected {word:?}"))
    }

    fn field(&self, path: &str) -> Result<Value<'_>, String> {
        let text = |s: &str| Ok(Value::Text(s.to_string()));
        match path {
            ".Service.ID" => text(&self.service_id),
            ".Service.Name" => text(&self.service_name),
            ".Service.Labels" => Ok(Value::Map(&self.service_labels)),
            ".Node.ID" => text(&self.node_id),
            ".Node.Hostname" => text(&self.node_hostname),
            ".Node.Platform.OS" => text(&self.node_os),
            ".Node.Platform.Architecture" => text(&self.node_arch),
            ".Task.ID" => text(&self.task_id),
            ".Task.Name" => text(&self.task_name),
            ".Task.Slot" => text(&self.task_slot),
            other => match other.strip_prefix(".Service.Labels.") {
                Some(key) => text(self.service_labels.get(key).map_or("", String::as_str)),
                None => Err(format!("template: can't evaluate field {other}")),
            },
        }
    }
}

/// Splits an action into words, keeping quoted strings whole.
fn split_words(action: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = action.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '"' || c == '`' {
            let quote = c;
            word.push(c);
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                word.push(c);
                if c == '\\' && quote == '"' {
                    if let Some(escaped) = chars.next() {
                        word.push(escaped);
                    }
                    continue;
                }
                if c == quote {
                    closed = true;
                    break;
                }
            }
            if !closed {
                return Err(format!("template: unterminated string in {action:?}"));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        words.push(word);
    }
    Ok(words)
}

fn unquote(word: &str) -> Option<String> {
    if let Some(inner) = word.strip_prefix('`').and_then(|w| w.strip_suffix('`')) {
        return Some(inner.to_string());
    }
    let inner = word.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> TemplateContext {
        TemplateContext {
            service_id: "svc1".into(),
            service_name: "web".into(),
            service_labels: BTreeMap::from([("tier".into(), "front".into())]),
            node_id: "node1".into(),
            node_hostname: "host-a".into(),
            node_os: "linux".into(),
            node_arch: "x86_64".into(),
            task_id: "task1".into(),
            task_name: "web.3.task1".into(),
            task_slot: "3".into(),
        }
    }

    #[test]
    fn fields_expand() {
        let c = context();
        assert_eq!(
            c.expand("{{.Service.Name}}-{{.Task.Slot}}@{{.Node.Hostname}}")
                .unwrap(),
            "web-3@host-a"
        );
        assert_eq!(c.expand("{{ .Task.Name }}").unwrap(), "web.3.task1");
        assert_eq!(c.expand("plain").unwrap(), "plain");
        assert_eq!(
            c.expand("{{.Node.Platform.OS}}/{{.Node.Platform.Architecture}}")
                .unwrap(),
            "linux/x86_64"
        );
    }

    #[test]
    fn labels_index_and_map() {
        let c = context();
        assert_eq!(
            c.expand(r#"{{index .Service.Labels "tier"}}"#).unwrap(),
            "front"
        );
        assert_eq!(c.expand("{{.Service.Labels}}").unwrap(), "map[tier:front]");
        assert_eq!(c.expand(r#"{{join "," "a" "b"}}"#).unwrap(), "a,b");
    }

    #[test]
    fn trimming_markers() {
        let c = context();
        assert_eq!(c.expand("a  {{- .Task.Slot -}}  b").unwrap(), "a3b");
    }

    #[test]
    fn errors_are_reported() {
        let c = context();
        assert!(c.expand("{{.Nope}}").is_err());
        assert!(c.expand("{{.Service.Name").is_err());
        assert!(c.expand(r#"{{secret "x"}}"#).is_err());
        assert!(c.expand("{{printf \"%d\" 1}}").is_err());
    }

    #[test]
    fn payload_functions() {
        let c = context();
        let env = vec!["MODE=prod".to_string()];
        let payload = Payload {
            secrets: BTreeMap::from([("db_pw", b"s3cret".as_slice())]),
            configs: BTreeMap::from([("app.conf", b"x=1".as_slice())]),
            env: &env,
        };
        let out = c
            .expand_payload(
                r#"pw={{secret "db_pw"}} conf={{config "app.conf"}} mode={{env "MODE"}} svc={{.Service.Name}}"#,
                &payload,
            )
            .unwrap();
        assert_eq!(out, "pw=s3cret conf=x=1 mode=prod svc=web");
        assert_eq!(
            c.expand_payload(r#"{{secret "nope"}}"#, &payload)
                .unwrap_err(),
            "secret target nope not found"
        );
    }
}
