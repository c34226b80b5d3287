"""The platform's runtime services: embedded on one machine by default, real ones by URL."""
