"""Storage: PynamoDB table models and the repositories the domain talks to."""
