"""Static web apps hosted beside the API: manifests, loading from directories or packages, metadata."""

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chapkit.adapters.observability import get_logger

logger = get_logger(__name__)

MANIFEST_FILE = "manifest.json"


class AppManifest(BaseModel):
    """App manifest configuration."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Human-readable app name")
    version: str = Field(description="Semantic version")
    prefix: str = Field(description="URL prefix for mounting")
    description: str | None = Field(default=None, description="App description")
    author: str | None = Field(default=None, description="Author name")
    entry: str = Field(default="index.html", description="Entry point filename")

    @field_validator("prefix")
    @classmethod
    def validate_prefix(cls, v: str) -> str:
        """Validate mount prefix format."""
        if not v.startswith("/"):
            raise ValueError("prefix must start with '/'")
        if ".." in v:
            raise ValueError("prefix cannot contain '..'")
        if v.startswith("/api/") or v == "/api":
            raise ValueError("prefix cannot be '/api' or start with '/api/'")
        return v

    @field_validator("entry")
    @classmethod
    def validate_entry(cls, v: str) -> str:
        """Validate entry file path for security."""
        if ".." in v:
            raise ValueError("entry cannot contain '..'")
        if v.startswith(("/", "\\")):
            raise ValueError("entry must be a relative path")
        if not v.strip() or "\\" in v or "\x00" in v:
            raise ValueError("entry must be a relative file path with '/' separators")
        if any(part in ("", ".") for part in PurePosixPath(v).parts) or v.endswith("/"):
            raise ValueError("entry must name a file inside the app directory")
        return v


@dataclass
class App:
    """Represents a loaded app with manifest and directory."""

    manifest: AppManifest
    directory: Path
    prefix: str  # may differ from the manifest's when overridden at load time
    is_package: bool  # True if loaded from package resources


class AppInfo(BaseModel):
    """App metadata for API responses."""

    name: str = Field(description="Human-readable app name")
    version: str = Field(description="Semantic version")
    prefix: str = Field(description="URL prefix for mounting")
    description: str | None = Field(default=None, description="App description")
    author: str | None = Field(default=None, description="Author name")
    entry: str = Field(description="Entry point filename")
    is_package: bool = Field(description="Whether app is loaded from package resources")

    @classmethod
    def from_app(cls, app: App) -> Self:
        """Describe a loaded app."""
        return cls(
            name=app.manifest.name,
            version=app.manifest.version,
            prefix=app.prefix,
            description=app.manifest.description,
            author=app.manifest.author,
            entry=app.manifest.entry,
            is_package=app.is_package,
        )


class AppManager:
    """Lightweight manager for app metadata queries."""

    def __init__(self, apps: list[App]) -> None:
        """Initialize with loaded apps."""
        self._apps = list(apps)

    def list(self) -> list[App]:
        """Return all installed apps."""
        return list(self._apps)

    def get(self, prefix: str) -> App | None:
        """Get app by mount prefix."""
        return next((app for app in self._apps if app.prefix == prefix), None)


class AppLoader:
    """Loads and validates apps from filesystem or package resources."""

    @staticmethod
    def load(path: str | Path | tuple[str, str], prefix: str | None = None) -> App:
        """Load and validate app from filesystem path or package resource tuple."""
        if isinstance(path, tuple):
            dir_path, is_package = AppLoader._resolve_package_path(path)
        else:
            dir_path = AppLoader._resolve_directory(path, what="App directory")
            is_package = False

        manifest_path = dir_path / MANIFEST_FILE
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{MANIFEST_FILE} not found in: {dir_path}")
        try:
            manifest_data = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"Invalid JSON in {MANIFEST_FILE}: {e}") from e
        if not isinstance(manifest_data, dict):
            raise ValueError(f"{MANIFEST_FILE} must hold a JSON object")

        manifest = AppManifest(**manifest_data)

        entry_path = (dir_path / manifest.entry).resolve()
        if not entry_path.is_relative_to(dir_path) or not entry_path.is_file():
            raise FileNotFoundError(f"Entry file '{manifest.entry}' not found in: {dir_path}")

        final_prefix = manifest.prefix
        if prefix is not None:
            # An override passes the same prefix rules as a manifest's own.
            final_prefix = AppManifest(name=manifest.name, version=manifest.version, prefix=prefix).prefix

        return App(manifest=manifest, directory=dir_path, prefix=final_prefix, is_package=is_package)

    @staticmethod
    def discover(path: str | Path | tuple[str, str]) -> list[App]:
        """Discover all apps with manifest.json in directory."""
        if isinstance(path, tuple):
            dir_path, _ = AppLoader._resolve_package_path(path)
        else:
            dir_path = AppLoader._resolve_directory(path, what="Apps directory")

        apps: list[App] = []
        # Sorted, so the order (and which app wins a shared prefix) does not depend on the file system.
        for subdir in sorted(dir_path.iterdir()):
            if not (subdir.is_dir() and (subdir / MANIFEST_FILE).is_file()):
                continue
            try:
                if isinstance(path, tuple):
                    package_name, base_path = path
                    subpath = f"{base_path.rstrip('/')}/{subdir.name}" if base_path else subdir.name
                    apps.append(AppLoader.load((package_name, subpath)))
                else:
                    apps.append(AppLoader.load(subdir))
            except (OSError, ValueError) as e:
                # One broken app must not stop the others from being served.
                logger.warning("app.discovery.failed", directory=str(subdir), error=str(e))
        return apps

    @staticmethod
    def _resolve_directory(path: str | Path, *, what: str) -> Path:
        dir_path = Path(path).resolve()
        if not dir_path.exists():
            raise FileNotFoundError(f"{what} not found: {dir_path}")
        if not dir_path.is_dir():
            raise NotADirectoryError(f"{what} is not a directory: {dir_path}")
        return dir_path

    @staticmethod
    def _resolve_package_path(package_tuple: tuple[str, str]) -> tuple[Path, bool]:
        """Resolve package resource tuple to filesystem path."""
        package_name, subpath = package_tuple

        if ".." in subpath:
            raise ValueError(f"subpath cannot contain '..' (got: {subpath})")
        if subpath.startswith(("/", "\\")) or Path(subpath).is_absolute():
            raise ValueError(f"subpath must be relative (got: {subpath})")

        try:
            spec = importlib.util.find_spec(package_name)
        except (ImportError, ValueError) as e:
            raise ValueError(f"Package '{package_name}' could not be found") from e
        if spec is None:
            raise ValueError(f"Package '{package_name}' could not be found")
        if spec.submodule_search_locations:
            package_dir = Path(next(iter(spec.submodule_search_locations)))
        elif spec.origin is not None:
            package_dir = Path(spec.origin).parent
        else:
            raise ValueError(f"Package '{package_name}' could not be found")

        package_dir = package_dir.resolve()
        # resolve() follows symlinks, so a link pointing outside the package is caught here too.
        app_dir = (package_dir / subpath).resolve()
        if not app_dir.is_relative_to(package_dir):
            raise ValueError(f"App path '{subpath}' escapes package directory")
        if not app_dir.exists():
            raise FileNotFoundError(f"App path '{subpath}' not found in package '{package_name}'")
        if not app_dir.is_dir():
            raise NotADirectoryError(f"App path '{subpath}' in package '{package_name}' is not a directory")
        return app_dir, True


__all__ = ["App", "AppInfo", "AppLoader", "AppManager", "AppManifest"]
