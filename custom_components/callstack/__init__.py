"""Callstack: the SIMCom SIM7600 LTE modem as a phone line and SMS gateway for Home Assistant."""
