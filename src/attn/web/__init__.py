"""The browser app: server-rendered pages for teachers and students. Imports services."""
