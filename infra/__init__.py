"""The CDK app of Agent Jobs (``infra/app.py``): one stack composed of one construct per concern."""
