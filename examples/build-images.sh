#!/usr/bin/env bash
# build-images.sh - the images the example stacks use, built locally (no registry needed).
#
#   examples/build-images.sh            # on the local dockerd (not through shoal)
#
# shoal-example/base:1   static busybox with every applet
# shoal-example/web:1    busybox httpd on :8000 serving a page that names its container
# shoal-example/db:1     a stand-in database answering on :5432
set -euo pipefail
export DOCKER_HOST=${ENGINE_HOST:-unix:///var/run/docker.sock}
if [ ! -x /bin/busybox ]; then
  apt-get install -y busybox-static >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/root/bin" "$work/root/etc" "$work/root/tmp"
cp /bin/busybox "$work/root/bin/busybox"
ln -s busybox "$work/root/bin/sh"
echo 'root:x:0:0:root:/:/bin/sh' > "$work/root/etc/passwd"
tar -C "$work/root" -c . | docker import -c 'CMD ["/bin/sh"]' - shoal-example/busybox:import >/dev/null

mkdir -p "$work/base"
cat > "$work/base/Dockerfile" <<'DOCKERFILE'
FROM shoal-example/busybox:import
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /www /data && chmod 1777 /tmp"]
ENV PATH=/bin
CMD ["sh"]
DOCKERFILE
docker build -q -t shoal-example/base:1 "$work/base" >/dev/null

mkdir -p "$work/web"
cat > "$work/web/Dockerfile" <<'DOCKERFILE'
FROM shoal-example/base:1
EXPOSE 8000
CMD ["sh", "-c", "echo \"hello from $(hostname)\" > /www/index.html; exec httpd -f -v -p 8000 -h /www"]
DOCKERFILE
docker build -q -t shoal-example/web:1 "$work/web" >/dev/null

mkdir -p "$work/db"
cat > "$work/db/Dockerfile" <<'DOCKERFILE'
FROM shoal-example/base:1
VOLUME /data
EXPOSE 5432
CMD ["sh", "-c", "echo started > /data/started; while true; do echo 'fake db' | nc -l -p 5432; done"]
DOCKERFILE
docker build -q -t shoal-example/db:1 "$work/db" >/dev/null

docker images --format '{{.Repository}}:{{.Tag}}' | grep '^shoal-example/' | sort
