"""Content service: article categories, articles and banners (ARCHITECTURE.md §2, port 8009)."""
