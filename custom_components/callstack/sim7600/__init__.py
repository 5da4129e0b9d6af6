"""SIM7600 driver: pure asyncio, no Home Assistant import (a test enforces it)."""
