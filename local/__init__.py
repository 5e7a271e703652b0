"""The local stack: the whole platform on one machine, no AWS account."""
