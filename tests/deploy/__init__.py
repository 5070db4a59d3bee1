"""Deployment: Dockerfile, docker-compose.yml, nginx.conf and the env files, checked for real."""
