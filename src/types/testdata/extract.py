#!/usr/bin/env python3
"""Copies the engine's JSON bodies that the round-trip tests need out of the reference
transcripts (observed API 1.41 output of a real engine), one compact JSON value per line,
keeping one example per distinct shape so the files stay small.

usage: extract.py /work/shared/reference/transcripts src/types/testdata
"""
import glob, json, os, re, sys

src, out = sys.argv[1], sys.argv[2]
ID = r'[^/]+'
# (file, method, path regex, side, how to pick values out of the body)
KINDS = [
    ('services',   'GET',  r'/services(/' + ID + ')?', 'resp', 'items'),
    ('tasks',      'GET',  r'/tasks(/' + ID + ')?', 'resp', 'items'),
    ('nodes',      'GET',  r'/nodes(/' + ID + ')?', 'resp', 'items'),
    ('swarm',      'GET',  r'/swarm', 'resp', 'items'),
    ('info_swarm', 'GET',  r'/info', 'resp', 'swarm'),
    ('secrets',    'GET',  r'/secrets(/' + ID + ')?', 'resp', 'items'),
    ('configs',    'GET',  r'/configs(/' + ID + ')?', 'resp', 'items'),
    ('networks',   'GET',  r'/networks(/' + ID + ')?', 'resp', 'items'),
    ('events',     'GET',  r'/events', 'resp', 'ndjson'),
    ('unlock_key_responses', 'GET', r'/swarm/unlockkey', 'resp', 'items'),
    ('service_create_responses', 'POST', r'/services/create', 'resp', 'items'),
    ('service_update_responses', 'POST', r'/services/' + ID + '/update', 'resp', 'items'),
    ('id_responses', 'POST', r'/(secrets|configs)/create', 'resp', 'items'),
    ('network_create_responses', 'POST', r'/networks/create', 'resp', 'items'),
    ('req_service_specs', 'POST', r'/services/(create|' + ID + '/update)', 'req', 'items'),
    ('req_service_specs_sdk_curl', 'POST', r'/services/(create|' + ID + '/update)', 'req', 'items'),
    ('req_network_create', 'POST', r'/networks/create', 'req', 'items'),
    ('req_secret_specs', 'POST', r'/secrets/(create|' + ID + '/update)', 'req', 'items'),
    ('req_config_specs', 'POST', r'/configs/(create|' + ID + '/update)', 'req', 'items'),
    ('req_node_specs', 'POST', r'/nodes/' + ID + '/update', 'req', 'items'),
    ('req_swarm_init', 'POST', r'/swarm/init', 'req', 'items'),
    ('req_swarm_join', 'POST', r'/swarm/join', 'req', 'items'),
    ('req_swarm_unlock', 'POST', r'/swarm/unlock', 'req', 'items'),
    ('req_swarm_specs', 'POST', r'/swarm/update', 'req', 'items'),
]


def shape(v, p='', acc=None):
    acc = set() if acc is None else acc
    if isinstance(v, dict):
        acc.add((p, 'obj' if v else '{}'))
        mapish = p.split('.')[-1] in ('Labels', 'Options', 'Attributes', 'Containers',
                                      'DriverOpts', 'Sysctls', 'AuxiliaryAddresses')
        for k, x in v.items():
            shape(x, p + '.' + ('*' if mapish else k), acc)
    elif isinstance(v, list):
        acc.add((p, 'list' if v else '[]'))
        for x in v:
            shape(x, p + '[]', acc)
    else:
        acc.add((p, 'null' if v is None else type(v).__name__))
    return frozenset(acc)


def values(body, how):
    if how == 'ndjson':
        return body.get('ndjson', [])
    if 'json' not in body:
        return []
    v = body['json']
    if how == 'swarm':
        return [v['Swarm']] if isinstance(v, dict) and 'Swarm' in v else []
    return v if isinstance(v, list) else [v]


picked = {k[0]: {} for k in KINDS}
for f in sorted(glob.glob(os.path.join(src, '*.json'))):
    n = int(os.path.basename(f)[:3])
    if 157 <= n <= 170:  # stubs and the recorder self-test: not the real engine
        continue
    for e in json.load(open(f))['exchanges']:
        req, resp = e.get('request', {}), e.get('response', {})
        method = req.get('method') or e.get('method')
        path = re.sub(r'^/v1\.\d+', '', (req.get('target') or e.get('target') or '').split('?')[0])
        for name, m, rx, side, how in KINDS:
            if m != method or not re.fullmatch(rx, path):
                continue
            # answers: only successes; requests: all but the deliberately malformed bodies
            if side == 'resp' and resp.get('status') not in (200, 201):
                continue
            if side == 'req' and n in (115, 116):
                continue
            # the CLI's service specs apart from docker-py's and curl's (other spellings)
            agent = (req.get('headers') or {}).get('User-Agent', '')
            if name.startswith('req_service_specs') and \
                    (name == 'req_service_specs') != agent.startswith('Docker-Client/'):
                continue
            body = req.get('body', {}) if side == 'req' else resp.get('body', {})
            for v in values(body, how):
                picked[name].setdefault(shape(v), v)

os.makedirs(out, exist_ok=True)
for name, found in picked.items():
    with open(os.path.join(out, name + '.ndjson'), 'w') as fh:
        for v in found.values():
            fh.write(json.dumps(v, separators=(',', ':'), ensure_ascii=False) + '\n')
    print(name, len(found))
