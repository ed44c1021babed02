"""The TrustLLM benchmark data, declared as a source (a pinned GitHub release zip with a gated
Hugging Face mirror).

The release is pinned to one immutable file (a URL at a fixed commit plus its SHA-256), so a
fetched copy is byte-for-byte the release the numbers in our docs were computed on. The URL may
be overridden by ``TRUSTGAUGE_TRUSTLLM_URL`` (a mirror, a ``file://`` URL or a plain path to a
local copy of the zip); the checksum is still enforced. The Hugging Face copy
(``trustgauge data fetch trustllm --from hf``) has no archive checksum, so each file's record
count is checked against :attr:`~trustgauge.data.sources.DataSource.files` and the per-file
SHA-256s are recorded with the cached copy.
"""

from __future__ import annotations

from trustgauge.data.sources import GithubReleaseZip, register_source

TRUSTLLM = register_source(
    GithubReleaseZip(
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
        # the last clause of every "how to get the data" message
        offline_hint="`--suite quick` runs offline on the packaged sample",
    )
)
