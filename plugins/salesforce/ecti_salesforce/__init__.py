"""ECTI's Salesforce Open CTI plugin: the softphone inside Salesforce (see docs/salesforce.md)."""
