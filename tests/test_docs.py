# Copyright (c) pinas_mm contributors. All rights reserved.
"""The documentation cannot drift from the code: its links resolve, its commands name tools, options, configs and
config keys that exist, its snippets build and run, its tables match the shipped subnets and the model index, and the
FAQ quotes messages the code still prints. (tests/test_own_config.py trains the own-config guide's snippets,
tests/test_compat.py checks the compatibility guide's table.)"""
import ast
import inspect
import os.path as osp
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / 'docs' / 'en'
PAGES = sorted([ROOT / 'README.md', ROOT / 'configs' / 'pinas' / 'README.md', *DOCS.rglob('*.md')])
FENCE = re.compile(r'```(\w*)\n(.*?)```', re.S)


def rel(page):
    return str(page.relative_to(ROOT))


def prose(text):
    """The text outside fenced blocks."""
    return FENCE.sub('', text)


def slug(heading):
    """GitHub's anchor of a Markdown heading."""
    heading = re.sub(r'[`*_]|\[([^\]]*)\]\([^)]*\)', r'\1', heading.strip().lower())
    return re.sub(r'[^\w\- ]', '', heading).replace(' ', '-')


def anchors(page):
    return {slug(line.lstrip('#')) for line in prose(page.read_text()).splitlines() if re.match(r'#{1,6} ', line)}


def test_readme_is_a_landing_page():
    text = (ROOT / 'README.md').read_text()
    assert len(text.splitlines()) <= 120
    makefile = (ROOT / 'Makefile').read_text()
    for command in ('make demo', 'make test', 'make install'):  # .ci/run runs README's command B
        assert command in text and re.search(rf'^{command.split()[1]}:', makefile, re.M), command
    linked = set(re.findall(r'\]\((docs/en/[^)#]+)', text))
    assert {'docs/en/get_started.md', 'docs/en/ranking_benchmark.md', 'docs/en/notes/faq.md',
            'docs/en/notes/changelog.md', 'docs/en/index.md'} <= linked


def test_the_index_links_every_page():
    linked = {(DOCS / target).resolve() for target in re.findall(r'\]\(([^)#]+)', (DOCS / 'index.md').read_text())}
    assert set(DOCS.rglob('*.md')) - {DOCS / 'index.md'} <= linked


@pytest.mark.parametrize('page', PAGES, ids=rel)
def test_relative_links_resolve(page):
    for target in re.findall(r'\]\(([^)\s]+)\)', prose(page.read_text())):
        if re.match(r'[a-z]+:', target):
            continue  # an absolute URL
        path, _, anchor = target.partition('#')
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f'{rel(page)}: {target} does not exist'
        if anchor:
            assert anchor in anchors(resolved), f'{rel(page)}: {target}: no heading with that anchor'


@pytest.mark.parametrize('page', PAGES, ids=rel)
def test_pages_speak_of_the_product_not_of_its_development(page):
    text = page.read_text()
    for pattern in (r'\bissues?\b', r'#\d+\b', r'\bcollapsing recipe\b', r'\bas the issue\b'):
        assert not re.search(pattern, text, re.I), f'{rel(page)}: {re.search(pattern, text, re.I).group()}'


@pytest.mark.parametrize('page', PAGES, ids=rel)
def test_paths_named_in_the_docs_exist(page):
    text = page.read_text()
    for path in re.findall(r'(?<![\w/.-])((?:configs|tools|tests|benchmarks|pinas_mm|requirements)/[\w./-]*\w)', text):
        if '/results/' in path:  # a benchmark's results file: its folder exists, the file once it has run
            path = path[:path.index('/results/') + len('/results')]
        assert (ROOT / path).exists(), f'{rel(page)}: {path} does not exist'


# ---------------------------------------------------------------------------------------------------------------
# commands

TOOL_OF = {'tools/dist_train.sh': 'tools/train.py', 'tools/slurm_train.sh': 'tools/train.py',
           'tools/dist_test.sh': 'tools/test.py', 'tools/slurm_test.sh': 'tools/test.py'}


def commands():
    """(page, command line) of every tool or benchmark run in the docs: fenced shell lines and inline code."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for lang, block in FENCE.findall(text):
            if lang not in ('bash', 'shell', 'sh'):
                continue
            for line in block.replace('\\\n', ' ').splitlines():
                line = line.split(' # ')[0].strip()
                if re.match(r'(python|bash) (tools|benchmarks)/', line):
                    found.append((page, line))
        found += [(page, line) for line in re.findall(r'`((?:python|bash) (?:tools|benchmarks)/[^`]+)`', prose(text))]
    return found


COMMANDS = commands()


def argparse_options(script):
    """The options a script's argparse parser takes: its own and those its sibling modules add (benchmarks share
    theirs through ``device_figures.add_arguments``)."""
    path = ROOT / script
    imported = set(re.findall(r'^(?:from|import) (\w+)', path.read_text(), re.M))
    files = [path, *(sibling for sibling in path.parent.glob('*.py') if sibling.stem in imported)]
    pattern = r"""add_argument\((?:[^()]|\([^()]*\))*?['"](--[\w-]+)['"]"""
    return {option for file in files for option in re.findall(pattern, file.read_text(), re.S)}


def test_the_docs_run_every_tool():
    run = {line.split()[1] for _, line in COMMANDS}
    tools = {rel(path) for path in (ROOT / 'tools').rglob('*.py')}
    assert tools <= run, sorted(tools - run)


@pytest.mark.parametrize('page, line', COMMANDS, ids=[f'{rel(p)}: {c[:60]}' for p, c in COMMANDS])
def test_commands_name_existing_scripts_and_options(page, line):
    words = line.replace('[', ' ').replace(']', ' ').split()
    script = words[1]
    assert (ROOT / script).exists(), f'{rel(page)}: {script} does not exist'
    python_script = TOOL_OF.get(script, script)
    if not python_script.endswith('.py'):
        return
    options = argparse_options(python_script)
    used = {word.split('=')[0] for word in words[2:] if word.startswith('--')}
    assert used <= options, f'{rel(page)}: {line}: {sorted(used - options)} not options of {python_script}'


def cfg_options_commands():
    """(page, config, {key: value}) of every command that gives a config and --cfg-options."""
    found = []
    for page, line in COMMANDS:
        try:
            words = shlex.split(line)
        except ValueError:
            continue
        configs = [word for word in words if re.fullmatch(r'configs/[\w/.-]+\.py', word)]
        if '--cfg-options' not in words or not configs:
            continue
        options = {}
        for word in words[words.index('--cfg-options') + 1:]:
            if word.startswith('--'):
                break
            if '=' in word and not word.startswith('<'):
                key, value = word.split('=', 1)
                options[key] = value
        found.append((page, configs[0], options))
    return found


def accepts(type_name, argument):
    """Whether the registered class ``type_name`` (model, hook or loop) takes ``argument``; None if unknown."""
    from mmrazor.registry import HOOKS, LOOPS, MODELS  # pinas_mm's modules too: conftest imports pinas_mm
    for registry in (MODELS, HOOKS, LOOPS):
        cls = registry.get(type_name) if isinstance(type_name, str) else type_name
        if inspect.isclass(cls):
            parameters = inspect.signature(cls.__init__).parameters
            if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
                return None
            return argument in parameters
    return None


@pytest.mark.parametrize('page, config, options', cfg_options_commands(),
                         ids=[f'{rel(p)}: {c}' for p, c, _ in cfg_options_commands()])
def test_cfg_options_name_keys_of_the_config(page, config, options, monkeypatch):
    """Every key's parent exists in the config, and where the parent is a registered module, it takes the key."""
    from mmengine.config import Config
    monkeypatch.chdir(ROOT)
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    for key in options:
        *parents, leaf = key.split('.')
        node = cfg
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.get(part)
            assert node is not None, f'{rel(page)}: {config} has no {key}'
        if leaf != 'type' and isinstance(node, dict) and 'type' in node:
            assert accepts(node['type'], leaf) is not False, f'{rel(page)}: {key}: {node["type"]} takes no {leaf}'


# ---------------------------------------------------------------------------------------------------------------
# snippets and tables


def test_search_space_snippets_build(monkeypatch):
    import torch
    from mmengine.registry import init_default_scope

    from pinas_mm.registry import MODELS
    monkeypatch.chdir(ROOT)
    text = (DOCS / 'advanced_guides' / 'design.md').read_text()
    block = next(block for lang, block in FENCE.findall(text) if lang == 'python' and 'PiNASResNeSt' in block)
    lines = [line for line in block.splitlines() if line.startswith('backbone = ')]
    assert len(lines) == 5
    init_default_scope('mmrazor')
    built = []
    for line in lines:
        namespace = {}
        exec(line, namespace)
        built.append(MODELS.build(namespace['backbone']))
    supernet, from_yaml, from_digits, mixpath, small = built
    assert supernet.subnet is None and mixpath.max_paths == 2
    assert from_yaml.subnet == from_digits.subnet
    small.eval()
    with torch.no_grad():
        assert small(torch.rand(1, 3, 32, 32))[-1].shape[1] == 16 * 4 * 8  # the last stage of base width 16


def subnet_table_rows(page):
    """{YAML file name: digits} from a table row naming a shipped subnet's YAML and its digits."""
    rows = {}
    for line in page.read_text().splitlines():
        names = re.findall(r'([\w-]+\.yaml)', line)
        digits = re.findall(r'\b([0-3]{16})\b', line)
        if line.startswith('|') and names and digits:
            rows[names[0]] = digits[0]
    return rows


@pytest.mark.parametrize('page', [DOCS / 'advanced_guides' / 'design.md', ROOT / 'configs' / 'pinas' / 'README.md'],
                         ids=rel)
def test_subnet_tables_match_the_shipped_subnets(page):
    from pinas_mm.models import PiNASResNeSt
    from pinas_mm.structures import format_subnet, parse_subnet
    space = PiNASResNeSt.PINAS_CANDIDATES
    layers = [f'layer{stage}.{block}' for stage, blocks in enumerate((3, 4, 6, 3), 1) for block in range(blocks)]
    rows = subnet_table_rows(page)
    assert len(rows) >= 2
    for name, digits in rows.items():
        subnet = parse_subnet(str(ROOT / 'configs' / 'pinas' / 'subnets' / name), layers,
                              [str(i) for i in range(len(space))])
        assert format_subnet(subnet) == digits, name


def test_the_design_guide_s_subnet_figures_are_those_of_the_shipped_subnets(monkeypatch):
    """Its table's parameters: the subnets in spos_supernet.py's classifier (1000-class fc), as get_flops counts."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    monkeypatch.chdir(ROOT)
    architecture = Config.fromfile('configs/pinas/spos_supernet.py').model.architecture
    init_default_scope('mmrazor')
    table = (DOCS / 'advanced_guides' / 'design.md').read_text()
    rows = re.findall(r'^\| `([\w-]+\.yaml)` \| `\d+` \| ([\d.]+) M \|', table, re.M)
    assert len(rows) == 3
    for name, figure in rows:
        architecture.backbone.arch = f'configs/pinas/subnets/{name}'
        params = sum(p.numel() for p in MODELS.build(architecture).parameters())
        assert f'{params / 1e6:.2f}' == figure, name


def test_the_verify_command_prints_the_stack_and_the_fixes_as_make_install_does(capsys):
    from pinas_mm.compat import needed_fixes
    codes = set(re.findall(r'python -c "([^"]+)"', (DOCS / 'get_started.md').read_text()))
    assert len(codes) == 1, codes
    verify = codes.pop()
    exec(verify, {})
    printed = capsys.readouterr().out
    assert re.search(r'^torch +\d', printed, re.M) and re.search(r'^mmcv ops +', printed, re.M)
    fixes = re.search(r'^compat fixes +(.*)$', printed, re.M).group(1)
    assert fixes.split(', ') == [fix.__name__ for fix in needed_fixes()]
    assert verify in (DOCS / 'advanced_guides' / 'compatibility.md').read_text()
    assert verify in (ROOT / 'tools' / 'setup_env.sh').read_text()  # what make install runs last


def sources():
    """pinas_mm's and the tools' Python source, with escaped quotes read as the message prints them."""
    files = [*(ROOT / 'pinas_mm').rglob('*.py'), *(ROOT / 'tools').rglob('*.py')]
    return '\n'.join(path.read_text() for path in files).replace("\\'", "'")


def test_the_faq_quotes_messages_the_code_prints():
    source = sources()
    headings = re.findall(r'^### `(.+)`( \(\w+\))?$', (DOCS / 'notes' / 'faq.md').read_text(), re.M)
    assert len(headings) >= 20
    for message, upstream in headings:
        if upstream:
            continue  # another package's message
        for fragment in message.split('...'):
            assert fragment.strip() in source, f'the FAQ quotes {message!r}, which the code no longer prints'


# ---------------------------------------------------------------------------------------------------------------
# model index


def model_index():
    import modelindex
    return modelindex.load(str(ROOT / 'model-index.yml'))


def test_model_index_lists_the_metafile_and_every_model_is_complete():
    index = yaml.safe_load((ROOT / 'model-index.yml').read_text())
    assert index['Import'] == ['configs/pinas/metafile.yml']
    loaded = model_index()
    collections = {collection.name for collection in loaded.collections}
    assert collections == {'Pi-NAS'}
    metafile = yaml.safe_load((ROOT / 'configs' / 'pinas' / 'metafile.yml').read_text())
    collection = metafile['Collections'][0]
    assert collection['Paper']['URL'] and collection['Code']['URL'] and (ROOT / collection['README']).exists()
    names = [model.name for model in loaded.models]
    assert len(names) == len(set(names)) == len(metafile['Models'])
    for raw in metafile['Models']:
        assert raw['In Collection'] in collections and (ROOT / raw['Config']).exists(), raw['Name']
        assert {'Parameters', 'Training Data', 'Batch Size'} <= set(raw['Metadata']), raw['Name']
        assert set(raw.get('Downstream', [])) <= set(names), raw['Name']
        if raw['Results']:  # nothing measured at full scale here: every result is the paper's, and says so
            assert 'paper' in raw['Results Source'] and 'not measured' in raw['Results Source'], raw['Name']
        for result in raw['Results'] or []:
            assert {'Task', 'Dataset', 'Metrics'} <= set(result), raw['Name']
    for model in ('pinas_supernet_8xb32-coslr-100e_in1k', 'pinas-cls_32xb64_in1k', 'pinas-trans_32xb64_in1k',
                  'mask-rcnn_pinas-trans_fpn_1x_coco', 'deeplabv3_pinas-trans-d8_4xb4-80k_ade20k-512x512'):
        assert model in names


def zoo_rows():
    """{model name: row cells} of configs/pinas/README.md's tables."""
    rows = {}
    for line in (ROOT / 'configs' / 'pinas' / 'README.md').read_text().splitlines():
        match = re.match(r'\| `([\w.-]+)`', line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in line.strip('|').split('|')]
    return rows


def test_the_model_zoo_page_shows_every_model_with_its_figures():
    metafile = yaml.safe_load((ROOT / 'configs' / 'pinas' / 'metafile.yml').read_text())
    rows = zoo_rows()
    for model in metafile['Models']:
        cells = rows[model['Name']]
        assert f'{model["Metadata"]["Parameters"] / 1e6:.2f}' in cells, model['Name']
        if 'FLOPs' in model['Metadata']:
            assert f'{model["Metadata"]["FLOPs"] / 1e9:.2f}' in cells, model['Name']
        config = osp.relpath(ROOT / model['Config'], ROOT / 'configs' / 'pinas')
        assert f'[config]({config})' in cells, model['Name']
        figures = [float(cell.split()[0]) for cell in cells if re.match(r'\d+\.\d+ \(paper\)$', cell)]
        metrics = [value for result in model['Results'] or [] for value in result['Metrics'].values()]
        assert sorted(figures) == sorted(metrics), model['Name']  # each marked as the paper's


def count_parameters(config, monkeypatch):
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    monkeypatch.chdir(ROOT)
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmrazor'))
    backbone = cfg.model.get('backbone') or cfg.model.architecture.backbone
    backbone.init_cfg = None  # count only: load nothing
    return sum(p.numel() for p in MODELS.build(cfg.model).parameters())


SAMPLE = ['pinas-cls_32xb64_in1k', 'pinas-trans_32xb64_in1k', 'mask-rcnn_pinas-trans_fpn_1x_coco',
          'deeplabv3_pinas-trans-d8_4xb2-40k_cityscapes-512x1024']


@pytest.mark.parametrize('name', SAMPLE)
def test_metafile_parameters_are_those_of_the_configs(name, monkeypatch):
    """A sample of the counts (the supernets take longer to build): a classifier, a detector and a segmentor."""
    from pinas_mm.utils.check_env import has_compiled_ops
    model = next(model for model in yaml.safe_load((ROOT / 'configs' / 'pinas' / 'metafile.yml').read_text())['Models']
                 if model['Name'] == name)
    if not model['Config'].startswith('configs/pinas') and not has_compiled_ops():
        pytest.skip('mmdet / mmseg models need mmcv\'s compiled ops')
    assert count_parameters(model['Config'], monkeypatch) == model['Metadata']['Parameters']


def test_tools_import_the_environment_check_first():
    """Every tool imports pinas_mm before anything OpenMMLab, so that a broken stack ends in its one message."""
    for path in (ROOT / 'tools').rglob('*.py'):
        tree = ast.parse(path.read_text())
        imports = sorted((node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))),
                         key=lambda node: node.lineno)
        modules = [alias.name for node in imports if isinstance(node, ast.Import) for alias in node.names]
        modules += [node.module for node in imports if isinstance(node, ast.ImportFrom) and node.module]
        toolbox = [m for m in modules if m.split('.')[0] in ('mmengine', 'mmcv', 'mmpretrain', 'mmrazor', 'torch')]
        if toolbox or any(m.startswith('pinas_mm') for m in modules):
            first = next(m for m in modules if m.split('.')[0] in ('pinas_mm', *{t.split('.')[0] for t in toolbox}))
            assert first == 'pinas_mm', f'{rel(path)} imports {first} before pinas_mm'
