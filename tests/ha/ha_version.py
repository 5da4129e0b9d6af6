"""Which Home Assistant this run is on, for the tests of what newer versions add.

The suite runs on the two HAs of scripts/envs.sh (tests/structure/test_packaging.py checks
it): 2025.4.4 and 2026.10.4. A feature of HA 2026 that Callstack uses where it exists is
asserted to be there from the version named, and to be absent below it, so its test can
pass on neither HA by skipping its point.
"""

from __future__ import annotations

from awesomeversion import AwesomeVersion
from homeassistant.const import __version__

HA_VERSION = AwesomeVersion(__version__)

# HA serves a custom integration's brand/ images itself (the brands integration).
BRAND_IMAGES_SINCE = "2026.3"
# As tested: absent from 2025.4.4, present in 2026.10.4 (the versions in between are not run).
SERIAL_PORT_PICKER_SINCE = "2026.10"  # the serial_port selector
PORT_USERS_SINCE = "2026.10"  # the usb component's list of the entries using each port
