"""The README stands on its own: what it links to is in the repository, or is the
running service on this machine."""

import re
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def test_every_url_in_the_readme_is_the_service_on_this_machine() -> None:
    urls = re.findall(r"https?://[^\s)>`'\"]+", README)
    assert urls, "the README should say where the running service answers"
    assert [url for url in urls if urlparse(url).hostname not in LOCAL_HOSTS] == []


def anchor_of(heading: str) -> str:
    """The id GitHub and most renderers give a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_in_the_readme_is_a_file_of_the_repository() -> None:
    """A file or folder of the repository, or a heading of the README itself."""
    targets = [t for t in re.findall(r"\]\(([^)]+)\)", README) if "://" not in t]
    assert targets, "the README should link to the API reference"
    headings = {anchor_of(h) for h in re.findall(r"^#+ (.+)$", README, re.MULTILINE)}

    def found(target: str) -> bool:
        if target.startswith("#"):
            return target[1:] in headings
        path = ROOT / target.split("#")[0]
        return path.is_dir() if target.endswith("/") else path.is_file()

    assert [t for t in targets if not found(t)] == []


def test_the_readme_names_no_path_outside_the_repository() -> None:
    assert re.findall(r"(?<![\w.])\.\./\S*", README) == []
