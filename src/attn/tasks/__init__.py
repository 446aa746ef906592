"""Background jobs. Import store and db only."""
