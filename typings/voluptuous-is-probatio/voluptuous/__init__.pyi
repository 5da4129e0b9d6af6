# What `import voluptuous` is on Home Assistant >= 2026.10: HA's package __init__ calls
# probatio.compat.install_as_voluptuous(), so the name resolves to probatio (API-compatible), and
# HA's own signatures expect probatio's types. The real voluptuous stays installed beside it, so
# mypy would check our schemas against the wrong library; scripts/envs.sh puts this stub first on
# MYPYPATH in the environments whose HA ships probatio.
from probatio import *  # noqa: F403
