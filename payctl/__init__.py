"""payctl: plans, deploys and watches the payment platform's CloudFormation."""

__version__ = "0.1.0"
