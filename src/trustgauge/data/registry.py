"""Datasets trustgauge knows how to download: pinned URL, checksum, licence and expected layout.

Every source is pinned to one immutable file (a URL at a fixed commit plus its SHA-256), so a
fetched copy is byte-for-byte the release the numbers in our docs were computed on. The URL may
be overridden by ``TRUSTGAUGE_<ID>_URL`` (e.g. ``TRUSTGAUGE_TRUSTLLM_URL``: a mirror, a
``file://`` URL or a plain path to a local copy of the zip); the checksum is still enforced.

A source may also name a Hugging Face dataset repository holding the same files
(:attr:`DatasetSource.hf_repo`, ``trustgauge data fetch ID --from hf``). No archive checksum
exists for such a copy, so each file's record count is checked against :attr:`DatasetSource.files`
and the per-file SHA-256s are recorded with the cached copy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from trustgauge.errors import DataError


@dataclass(frozen=True)
class DatasetSource:
    """One downloadable dataset release.

    Attributes:
        id: Short name used on the command line and as the cache folder name.
        description: One line saying what the dataset is.
        url: Pinned download URL of the archive (a zip).
        sha256: Expected SHA-256 of the archive, lowercase hex.
        size_bytes: Expected size of the archive in bytes.
        licence: Licence text: what may be done with the data, and its caveats.
        homepage: Where the dataset is published.
        files: Relative path (``<dimension>/<file>.json``, ``/``-separated) -> expected number
            of records, in a stable order.
        archive_root: Top-level folder inside the archive whose contents form the layout, or
            ``None`` when the members are already laid out at the archive root.
        name: Display name used in messages (defaults to :attr:`id`).
        licence_short: A few words naming the licences, for tables.
        hf_repo: A Hugging Face *dataset* repository holding the same ``<dimension>/<file>.json``
            files (possibly gated), or ``None`` when there is no such alternative.
    """

    id: str
    description: str
    url: str
    sha256: str
    size_bytes: int
    licence: str
    homepage: str
    files: Mapping[str, int] = field(hash=False)
    archive_root: str | None = None
    name: str = ""
    licence_short: str = ""
    hf_repo: str | None = None

    def __post_init__(self) -> None:
        # Freeze the mapping so a shared registry entry cannot be mutated by a caller.
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))

    @property
    def url_env_var(self) -> str:
        """Name of the environment variable that overrides :attr:`url`."""
        return f"TRUSTGAUGE_{self.id.upper().replace('-', '_')}_URL"

    def resolved_url(self) -> str:
        """Return the download URL, honouring the ``TRUSTGAUGE_<ID>_URL`` override.

        Returns:
            The override when the environment variable is set and non-empty, else :attr:`url`.
        """
        override = os.environ.get(self.url_env_var, "").strip()
        if override:
            from trustgauge._secrets import register_url

            register_url(override)  # its user:password or ?token= never reach a file or a line
        return override or self.url

    @property
    def display_name(self) -> str:
        """:attr:`name`, or :attr:`id` when no name is set."""
        return self.name or self.id

    @property
    def hf_url(self) -> str | None:
        """The web page of :attr:`hf_repo` (where its terms are accepted), or ``None``."""
        return f"https://huggingface.co/datasets/{self.hf_repo}" if self.hf_repo else None

    @property
    def total_records(self) -> int:
        """Sum of the expected record counts of all files."""
        return sum(self.files.values())


TRUSTLLM = DatasetSource(
    id="trustllm",
    description=(
        "TrustLLM benchmark data (Sun et al. 2024): 24 JSON files over truthfulness, safety, "
        "fairness, robustness, privacy and machine ethics"
    ),
    url=(
        "https://raw.githubusercontent.com/HowieHwong/TrustLLM/"
        "4b864211f32602fddb8cafc8d5154bed1e0ce01e/dataset/dataset.zip"
    ),
    sha256="0433f79bc8dc8a5869af253d4a70067eda82f5651b89b7235a0220a8bf775317",
    size_bytes=1_778_759,
    licence=(
        "TrustLLM repository: MIT (Copyright (c) 2024 Yue Huang); its Hugging Face dataset card "
        "(TrustLLM/TrustLLM-dataset) says Apache-2.0. Component datasets keep their upstream "
        "licences, several of them CC BY-SA 4.0 (SQuAD2.0, HotpotQA, StereoSet, Social-Chem-101, "
        "AdvGLUE); treat the data as research use and check upstream terms before redistributing. "
        "privacy/privacy_leakage.json holds names and e-mail addresses from the public Enron "
        "corpus: do not reproduce them beyond what a report needs."
    ),
    homepage="https://github.com/HowieHwong/TrustLLM",
    files={
        "truthfulness/internal.json": 400,
        "truthfulness/external.json": 400,
        "truthfulness/hallucination.json": 652,
        "truthfulness/sycophancy.json": 419,
        "truthfulness/golden_advfactuality.json": 209,
        "safety/jailbreak.json": 1400,
        "safety/exaggerated_safety.json": 200,
        "safety/misuse.json": 1174,
        "fairness/stereotype_recognition.json": 1000,
        "fairness/stereotype_agreement.json": 1000,
        "fairness/stereotype_query_test.json": 95,
        "fairness/disparagement.json": 810,
        "fairness/preference.json": 240,
        "robustness/AdvGLUE.json": 912,
        "robustness/AdvInstruction.json": 600,
        "robustness/ood_detection.json": 241,
        "robustness/ood_generalization.json": 500,
        "privacy/privacy_awareness_query.json": 560,
        "privacy/privacy_leakage.json": 400,
        "privacy/privacy_awareness_confAIde.json": 196,
        "ethics/implicit_ETHICS.json": 500,
        "ethics/implicit_SocialChemistry101.json": 500,
        "ethics/explicit_moralchoice.json": 1367,
        "ethics/awareness.json": 2666,
    },
    # The zip holds dataset/<dimension>/<file>.json (no __MACOSX junk in this release).
    archive_root="dataset",
    name="TrustLLM",
    licence_short=(
        "code MIT; HF card Apache-2.0; components keep upstream licences (several CC BY-SA 4.0)"
    ),
    # A gated copy on the hub: accept the terms on its page, then HF_TOKEN / `hf auth login`.
    hf_repo="TrustLLM/TrustLLM-dataset",
)

_REGISTRY: dict[str, DatasetSource] = {source.id: source for source in (TRUSTLLM,)}


def source_ids() -> list[str]:
    """Return the ids of all known dataset sources.

    Returns:
        The ids, in registration order.
    """
    return list(_REGISTRY)


def get_source(source_id: str) -> DatasetSource:
    """Look up a dataset source by id.

    Args:
        source_id: A registered id such as ``"trustllm"``.

    Returns:
        The pinned source description.

    Raises:
        DataError: The id is unknown; the message lists the known ids.
    """
    try:
        return _REGISTRY[source_id]
    except KeyError:
        raise DataError(
            f"unknown dataset {source_id!r} (known: {', '.join(sorted(_REGISTRY))})"
        ) from None
