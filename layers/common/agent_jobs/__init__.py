"""Agent Jobs: the code shared by every Lambda function (one layer, one package)."""
