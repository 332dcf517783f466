"""SMS (F-PH-8): messages the tenant's numbers send and receive."""
