"""International numbers ('+' and digits) checked against precompiled numbering plans.

`phonenumbers` spends ~50 µs on a new number, mostly in generic parsing and in compiling or
looking up one regular expression per number type. For the common input, '+' followed by
ASCII digits only, this module gives the same verdict from tables built once per country
calling code out of the same `phonenumbers` metadata. Each step below mirrors one function of
`phonenumbers.phonenumberutil` (9.0.x) and names it; tests compare both paths on random and
example numbers of every region, so a metadata or library change that breaks the mirror fails
there. Anything this module is unsure about returns None and the caller uses `phonenumbers`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final, Literal

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata
from phonenumbers.phonemetadata import PhoneNumberDesc

_MIN_NSN = 2  # phonenumberutil._MIN_LENGTH_FOR_NSN
_MAX_NSN = 17  # phonenumberutil._MAX_LENGTH_FOR_NSN
_NON_GEO = "001"  # phonenumberutil.REGION_CODE_FOR_NON_GEO_ENTITY
_CODES = frozenset(str(code) for code in COUNTRY_CODE_TO_REGION_CODE)

_Verdict = Literal["possible", "local_only", "too_short", "too_long", "invalid_length"]


# Why a number is refused, as the caller shows it.
NOT_A_NUMBER: Final = "not a phone number"
NOT_POSSIBLE: Final = "not a possible phone number"
NOT_VALID: Final = "not a valid phone number"


@dataclass(frozen=True, slots=True)
class _RegionPlan:
    """What `is_valid_number_for_region` and `_region_code_for_number_from_list` need."""

    region: str
    leading_digits: re.Pattern[str] | None
    # National significant number length → one pattern combining the general description and
    # every number type that `_number_type_helper` would accept at that length.
    valid: dict[int, re.Pattern[str]]

    def is_valid(self, nsn: str) -> bool:
        pattern = self.valid.get(len(nsn))
        return pattern is not None and pattern.fullmatch(nsn) is not None


@dataclass(frozen=True, slots=True)
class _CodePlan:
    """One country calling code: the main region's parsing rules, then its regions in order."""

    national_prefix: re.Pattern[str] | None
    transform_rule: str | None
    general_desc: PhoneNumberDesc
    general: re.Pattern[str] | None
    possible_lengths: frozenset[int]  # up to _MAX_NSN; is_possible_number's lengths
    regions: tuple[_RegionPlan, ...]


def parse_international(digits: str) -> tuple[str, str] | str | None:
    """`digits` (ASCII, at least 3) after a '+': (E.164, region), a refusal's text, or None
    if the number is outside this module's exact domain and `phonenumbers` must decide."""
    if digits[0] == "0":
        return None  # no calling code starts with 0; parse then retries with the region
    for size in (1, 2, 3):  # _extract_country_code
        code = digits[:size]
        if code in _CODES:
            break
    else:
        return None
    plan = _plan_for(code)
    if plan is None:  # pragma: no cover - the current metadata has a plan for every code
        return None
    nsn = digits[size:]
    if len(nsn) < _MIN_NSN:
        return NOT_A_NUMBER
    nsn = _strip_national_prefix(nsn, plan)
    if not _MIN_NSN <= len(nsn) <= _MAX_NSN:
        return NOT_A_NUMBER
    if len(nsn) not in plan.possible_lengths:
        return NOT_POSSIBLE
    region = _region_for(nsn, plan.regions)
    if region is None or not region.is_valid(nsn):
        return NOT_VALID
    return "+" + code + nsn, region.region


def _strip_national_prefix(nsn: str, plan: _CodePlan) -> str:
    """parse() with `_maybe_strip_national_prefix_carrier_code`, then its length check."""
    if plan.national_prefix is None:
        return nsn
    match = plan.national_prefix.match(nsn)
    if match is None:
        return nsn
    if plan.transform_rule is None or match.groups()[-1] is None:
        stripped = nsn[match.end() :]
    else:
        stripped = plan.national_prefix.sub(plan.transform_rule, nsn, count=1)
    general = plan.general
    if general is not None and general.fullmatch(nsn) and not general.fullmatch(stripped):
        return nsn  # the number was viable and stripping would make it not viable
    # parse keeps the national number whole if the rest could be a local or short number
    verdict = _length_verdict(len(stripped), plan.general_desc)
    return stripped if verdict in ("possible", "too_long") else nsn


def _region_for(nsn: str, regions: tuple[_RegionPlan, ...]) -> _RegionPlan | None:
    """`region_code_for_number`: the only region, or the first whose leading digits or
    number patterns fit."""
    if len(regions) == 1:
        return regions[0]
    for region in regions:
        if region.leading_digits is not None:
            if region.leading_digits.match(nsn):
                return region
        elif region.is_valid(nsn):
            return region
    return None


@cache
def _plan_for(code: str) -> _CodePlan | None:
    """The plan of a calling code, or None where the metadata has a shape that phonenumbers
    does not expect (it would raise) or this module does not mirror: then it decides."""
    region_codes = COUNTRY_CODE_TO_REGION_CODE[int(code)]
    metadatas = [
        PhoneMetadata.metadata_for_region_or_calling_code(int(code), region)
        for region in region_codes
    ]
    main = metadatas[0]
    if main is None or main.general_desc is None or not main.general_desc.possible_length:
        return None  # pragma: no cover - phonenumbers would raise
    prefix = main.national_prefix_for_parsing or None
    rule = main.national_prefix_transform_rule or None
    national_prefix = re.compile(prefix) if prefix is not None else None
    if national_prefix is not None and rule is not None and national_prefix.groups == 0:
        return None  # pragma: no cover - `prefix_match.groups()[-1]` would raise
    regions: list[_RegionPlan] = []
    for region, metadata in zip(region_codes, metadatas, strict=True):
        # is_valid_number_for_region wants a region that owns the code; the regions sharing
        # a code must be geographic (_region_code_for_number_from_list reads their
        # metadata_for_region, which is this metadata only for them)
        shared_non_geo = region == _NON_GEO and len(region_codes) > 1
        if metadata is None or shared_non_geo or metadata.country_code != int(code):
            return None  # pragma: no cover
        leading = metadata.leading_digits
        regions.append(
            _RegionPlan(
                region=region,
                leading_digits=re.compile(leading) if leading is not None else None,
                valid=_valid_patterns(metadata),
            )
        )
    general = main.general_desc
    return _CodePlan(
        national_prefix=national_prefix,
        transform_rule=rule,
        general_desc=general,
        general=_compiled(general),
        possible_lengths=frozenset(
            n
            for n in range(_MAX_NSN + 1)
            if _length_verdict(n, general) in ("possible", "local_only")
        ),
        regions=tuple(regions),
    )


def _length_verdict(length: int, general: PhoneNumberDesc) -> _Verdict:
    """`_test_number_length` for PhoneNumberType.UNKNOWN (the general description)."""
    possible = general.possible_length
    if length in general.possible_length_local_only:
        return "local_only"
    if possible[0] == length:
        return "possible"
    if possible[0] > length:
        return "too_short"
    if possible[-1] < length:
        return "too_long"
    return "possible" if length in possible[1:] else "invalid_length"


def _valid_patterns(metadata: PhoneMetadata) -> dict[int, re.Pattern[str]]:
    """`_number_type_helper(nsn, metadata) != UNKNOWN`, one pattern per length."""
    general = metadata.general_desc
    if general is None or not general.national_number_pattern:  # pragma: no cover
        return {}  # the general description never matches: nothing is valid
    types = [
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
        metadata.fixed_line,
    ]
    if not metadata.same_mobile_and_fixed_line_pattern:
        types.append(metadata.mobile)  # otherwise the fixed-line check already decided
    patterns: dict[int, re.Pattern[str]] = {}
    for length in range(_MIN_NSN, _MAX_NSN + 1):
        if not _fits_length(general, length):
            continue
        alternatives = list(
            dict.fromkeys(  # unique, in order
                desc.national_number_pattern
                for desc in types
                if desc is not None and desc.national_number_pattern and _fits_length(desc, length)
            )
        )
        if alternatives:
            either = "|".join(f"(?:{pattern})" for pattern in alternatives)
            source = f"(?=(?:{general.national_number_pattern})\\Z)(?:{either})"
            patterns[length] = re.compile(source)
    return patterns


def _fits_length(desc: PhoneNumberDesc, length: int) -> bool:
    """`_is_number_matching_desc`: no possible lengths means any length."""
    return not desc.possible_length or length in desc.possible_length


def _compiled(desc: PhoneNumberDesc) -> re.Pattern[str] | None:
    """`_match_national_number` never matches an empty pattern."""
    return re.compile(desc.national_number_pattern) if desc.national_number_pattern else None
