"""Declarative skill trees: the YAML format, its schema, loader, bundled trees and extra composites."""
