"""Builds kmip-dictionary.json (tag numbers, enumeration and mask values by name) from the OASIS KMIP
1.4 and 2.1 specification HTML (docs.oasis-open.org/kmip/spec/v1.4/os/kmip-spec-v1.4-os.html,
docs.oasis-open.org/kmip/kmip-spec/v2.1/os/kmip-spec-v2.1-os.html).
Usage: python3 extract.py spec14.html spec21.html > kmip-dictionary.json"""
import json, re, sys
from html.parser import HTMLParser

class Tables(HTMLParser):
    def __init__(self):
        super().__init__(); self.tables = []; self.open = []; self.row = None; self.cell = None; self.heading = None; self.last_heading = ''
    def handle_starttag(self, tag, attrs):
        if tag == 'table': self.open.append({'heading': self.last_heading, 'rows': []})
        elif tag == 'tr' and self.open: self.row = []
        elif tag in ('td', 'th') and self.row is not None: self.cell = []
        elif re.fullmatch(r'h[1-6]', tag): self.heading = []
    def handle_endtag(self, tag):
        if tag == 'table' and self.open: self.tables.append(self.open.pop())
        elif tag == 'tr' and self.open and self.row is not None: self.open[-1]['rows'].append(self.row); self.row = None
        elif tag in ('td', 'th') and self.cell is not None and self.row is not None:
            self.row.append(re.sub(r'\s+', ' ', ''.join(self.cell)).strip()); self.cell = None
        elif re.fullmatch(r'h[1-6]', tag) and self.heading is not None:
            self.last_heading = re.sub(r'\s+', ' ', ''.join(self.heading)).strip(); self.heading = None
    def handle_data(self, data):
        if self.cell is not None: self.cell.append(data)
        if self.heading is not None: self.heading.append(data)

HEX = re.compile(r'^([0-9A-Fa-f]{6,8})\b')
def clean(name): return re.sub(r'\s*\((deprecated|reserved)[^)]*\)\s*$', '', name, flags=re.I).strip()

tags, enums, masks = {}, {}, {}
for path in sys.argv[1:]:
    parser = Tables(); parser.feed(open(path, encoding='utf-8', errors='replace').read())
    for t in parser.tables:
        rows = t['rows']
        if len(rows) < 3 or len(rows[1]) < 2 or rows[1][0] not in ('Name', 'Object') or rows[1][1] not in ('Value', 'Tag Value'): continue
        title = rows[0][0] if rows[0] else ''
        entries = {}
        for r in rows[2:]:
            if len(r) < 2: continue
            m = HEX.match(r[1].replace(' ', ''))
            if not m or 'X' in r[1] or not r[0]: continue
            entries[clean(r[0])] = int(m.group(1), 16)
        if title == 'Tag':
            tags.update({k: v for k, v in entries.items() if v >= 0x420001 and re.match(r'[A-Za-z]', k)})
        else:
            name = re.sub(r'\s*Enumeration$', '', re.sub(r'^[0-9.]+\s*', '', t['heading'])).strip()
            target = masks if name.endswith('Mask') else enums
            target.setdefault(name, {}).update(entries)
json.dump({'source': 'OASIS KMIP Specification v1.4 and v2.1, section 9.1.3 / 11-12 tables (docs.oasis-open.org/kmip)',
           'tags': tags, 'enumerations': enums, 'masks': masks}, sys.stdout, indent=1, sort_keys=True)
