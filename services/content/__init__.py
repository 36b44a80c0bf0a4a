"""Content service: article categories, articles and banners (port 8009)."""
