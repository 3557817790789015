#!/usr/bin/env python3
# For every rule blob in the go-libaudit golden files: how the real auditctl 3.0.9 lists it.
import yaml, glob, os, subprocess, tempfile
D=os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../shared/corpus/go-libaudit/rule-testdata')
print('// swift-format-ignore-file')
print('// Generated with the real auditctl 3.0.9 on an x86_64 host (see the AuditRules report): for')
print('// every rule blob of the go-libaudit golden files (../shared/corpus/go-libaudit/rule-testdata),')
print('// the line `auditctl -l` printed for it. Format: <yml file> TAB <index> TAB <listing>.')
print()
print('let goldenListingFixture = #"""')
for y in sorted(glob.glob(D+'/*.yml')):
    for i, r in enumerate(yaml.safe_load(open(y))['rules']):
        f = tempfile.mktemp(); open(f,'w').write(r['bytes'].hex()+'\n')
        env = dict(os.environ, LD_PRELOAD=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fakenl.so'), FAKENL_RULES=f)
        out = subprocess.run(['auditctl','-l'], capture_output=True, text=True, env=env).stdout.rstrip('\n')
        assert '\n' not in out
        print('%s\t%d\t%s' % (os.path.basename(y), i, out))
print('"""#')
