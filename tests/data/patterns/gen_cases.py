#!/usr/bin/env python3
"""Generate the pattern conformance cases in this directory.

Every *.jsonl file here is written by this script; edit the cases below and
run `python3 tests/data/patterns/gen_cases.py`. Expectations follow
docs/pattern-semantics.md (see README.md in this directory for the format).

A pattern or event given as a Python str is emitted as pattern_text /
event_text (taken byte for byte); anything else is emitted as a JSON value.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PFX = "Event pattern is not valid. Reason: "

FILES = {}
_cur = None


def topic(name):
    global _cur
    _cur = FILES.setdefault(name, [])


def _check_value(v):
    if isinstance(v, float):
        raise SystemExit("floats must be written as text (pattern_text/event_text): %r" % v)
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2 ** 53:
        raise SystemExit("big integers must be written as text: %r" % v)
    if isinstance(v, dict):
        for x in v.values():
            _check_value(x)
    elif isinstance(v, list):
        for x in v:
            _check_value(x)


def _add(name, pattern, event, **kw):
    c = {"name": name}
    for key, val in (("pattern", pattern), ("event", event)):
        if isinstance(val, str):
            c[key + "_text"] = val
        else:
            _check_value(val)
            c[key] = val
    c.update(kw)
    _cur.append(c)


def T(name, pattern, event, **kw):
    """The event matches."""
    _add(name, pattern, event, expect=True, **kw)


def F(name, pattern, event, **kw):
    """The event does not match."""
    _add(name, pattern, event, expect=False, **kw)


DEFAULT_EVENT = {"a": "x"}


def ERR(name, pattern, reason, event=None):
    """Invalid pattern: exact message."""
    _add(name, pattern, DEFAULT_EVENT if event is None else event,
         error=PFX + reason, error_code="InvalidEventPatternException")


def ERRP(name, pattern, prefix=""):
    """Invalid pattern: the message starts with PFX + prefix."""
    _add(name, pattern, DEFAULT_EVENT, error_prefix=PFX + prefix)


def BADEVENT(name, event_text, pattern=None):
    """Invalid event: only EVB_ERR_INVALID_EVENT is checked."""
    _add(name, {"a": [{"exists": False}]} if pattern is None else pattern,
         event_text, error="invalid event", error_code="InvalidEventEvent")


# ---------------------------------------------------------------------------
topic("exact")

T("string_equal", {"a": ["x"]}, {"a": "x"})
F("string_different", {"a": ["x"]}, {"a": "y"})
F("string_case_sensitive", {"a": ["abc"]}, {"a": "ABC"})
F("string_trailing_space_significant", {"a": ["abc"]}, {"a": "abc "})
F("string_leading_space_significant", {"a": [" abc"]}, {"a": "abc"})
F("string_is_not_a_prefix_match", {"a": ["abc"]}, {"a": "abcd"})
F("string_longer_pattern_value", {"a": ["abcd"]}, {"a": "abc"})
F("field_missing", {"a": ["x"]}, {"b": "x"})
T("unnamed_fields_ignored", {"a": ["x"]}, {"a": "x", "b": 1, "c": {"d": [1, 2]}, "e": None})
T("two_fields_both_match", {"a": ["x"], "b": ["y"]}, {"a": "x", "b": "y"})
F("two_fields_one_differs", {"a": ["x"], "b": ["y"]}, {"a": "x", "b": "z"})
F("two_fields_one_missing", {"a": ["x"], "b": ["y"]}, {"a": "x"})
T("value_list_first", {"a": ["x", "y", "z"]}, {"a": "x"})
T("value_list_last", {"a": ["x", "y", "z"]}, {"a": "z"})
F("value_list_none", {"a": ["x", "y", "z"]}, {"a": "w"})
T("value_list_repeated_value", {"a": ["x", "x"]}, {"a": "x"})
T("empty_string_matches_empty_string", {"a": [""]}, {"a": ""})
F("empty_string_vs_nonempty", {"a": [""]}, {"a": "x"})
F("empty_string_vs_null", {"a": [""]}, {"a": None})
F("empty_string_vs_missing", {"a": [""]}, {"b": ""})
F("empty_string_vs_space", {"a": [""]}, {"a": " "})
F("nonempty_vs_empty_string", {"a": ["x"]}, {"a": ""})
T("null_matches_null", {"a": [None]}, {"a": None})
F("null_vs_empty_string", {"a": [None]}, {"a": ""})
F("null_vs_string_null", {"a": [None]}, {"a": "null"})
F("null_vs_missing", {"a": [None]}, {"b": None})
F("null_vs_false", {"a": [None]}, {"a": False})
F("null_vs_zero", {"a": [None]}, {"a": 0})
F("null_vs_empty_object", {"a": [None]}, {"a": {}})
F("null_vs_empty_array", {"a": [None]}, {"a": []})
F("string_null_vs_null", {"a": ["null"]}, {"a": None})
T("true_matches_true", {"a": [True]}, {"a": True})
F("true_vs_false", {"a": [True]}, {"a": False})
F("true_vs_string_true", {"a": [True]}, {"a": "true"})
F("string_true_vs_true", {"a": ["true"]}, {"a": True})
F("true_vs_one", {"a": [True]}, {"a": 1})
F("one_vs_true", {"a": [1]}, {"a": True})
T("false_matches_false", {"a": [False]}, {"a": False})
F("false_vs_zero", {"a": [False]}, {"a": 0})
F("zero_vs_false", {"a": [0]}, {"a": False})
F("false_vs_null", {"a": [False]}, {"a": None})
F("false_vs_string_false", {"a": [False]}, {"a": "false"})
F("string_zero_vs_number_zero", {"a": ["0"]}, {"a": 0})
F("number_zero_vs_string_zero", {"a": [0]}, {"a": "0"})
F("string_300_vs_number_300", {"a": ["300"]}, {"a": 300})
F("number_300_vs_string_300", {"a": [300]}, {"a": "300"})
F("number_like_strings_compare_as_bytes", {"a": ["300"]}, '{"a":"300.0"}')
F("string_1e2_vs_string_100", {"a": ["1e2"]}, {"a": "100"})
T("mixed_types_list_string", {"a": ["x", 1, True, None]}, {"a": "x"})
T("mixed_types_list_number", {"a": ["x", 1, True, None]}, {"a": 1})
T("mixed_types_list_true", {"a": ["x", 1, True, None]}, {"a": True})
T("mixed_types_list_null", {"a": ["x", 1, True, None]}, {"a": None})
F("mixed_types_list_false", {"a": ["x", 1, True, None]}, {"a": False})
F("mixed_types_list_string_one", {"a": ["x", 1, True, None]}, {"a": "1"})
F("mixed_types_list_string_true", {"a": ["x", 1, True, None]}, {"a": "true"})
F("value_never_matches_object", {"a": ["x"]}, {"a": {"b": "x"}})
F("value_never_matches_object_with_same_key", {"a": ["a"]}, {"a": {"a": "a"}})
T("unicode_escape_in_pattern_value", r'{"a":["\u0041"]}', {"a": "A"})
T("unicode_escape_in_event_value", {"a": ["A"]}, r'{"a":"\u0041"}')
T("unicode_escape_hex_case_irrelevant", r'{"a":["\u00e9"]}', r'{"a":"\u00E9"}')
T("utf8_pattern_vs_escaped_event", {"a": ["\u00e9t\u00e9"]}, r'{"a":"\u00e9t\u00e9"}')
T("escaped_pattern_vs_utf8_event", r'{"a":["caf\u00e9"]}', {"a": "caf\u00e9"})
F("unicode_escape_different_letter", r'{"a":["\u00e9"]}', {"a": "\u00e8"})
F("unicode_escape_is_not_the_escape_text", r'{"a":["\u0041"]}', r'{"a":"\\u0041"}')
T("surrogate_pair_escape_vs_utf8", r'{"a":["\ud83d\ude80"]}', {"a": "\U0001F680"})
T("utf8_vs_surrogate_pair_escape", {"a": ["go \U0001F680"]}, r'{"a":"go \ud83d\ude80"}')
F("surrogate_pair_different_emoji", r'{"a":["\ud83d\ude80"]}', {"a": "\U0001F681"})
T("escaped_quote", {"a": ['say "hi"']}, {"a": 'say "hi"'})
T("escaped_backslash", {"a": ["a\\b"]}, {"a": "a\\b"})
F("escaped_backslash_vs_plain", {"a": ["a\\b"]}, {"a": "ab"})
T("escaped_slash_equals_slash", r'{"a":["a\/b"]}', {"a": "a/b"})
T("escaped_newline", {"a": ["l1\nl2"]}, r'{"a":"l1\nl2"}')
F("escaped_newline_vs_nothing", {"a": ["l1\nl2"]}, {"a": "l1l2"})
F("escaped_tab_vs_space", {"a": ["a\tb"]}, {"a": "a b"})
T("unicode_escape_short_forms", r'{"a":["\b\f\n\r\t"]}', r'{"a":"\u0008\u000c\u000a\u000d\u0009"}')
T("nul_in_value_matches", r'{"a":["x\u0000y"]}', r'{"a":"x\u0000y"}')
F("nul_in_value_differs_after_nul", r'{"a":["x\u0000y"]}', r'{"a":"x\u0000z"}')
F("nul_in_value_vs_truncated", r'{"a":["x\u0000y"]}', {"a": "x"})
F("value_vs_value_with_nul", {"a": ["x"]}, r'{"a":"x\u0000"}')
T("long_string_equal", {"a": ["k" * 2000]}, {"a": "k" * 2000})
F("long_string_last_byte_differs", {"a": ["k" * 2000]}, {"a": "k" * 1999 + "j"})
F("multibyte_differs_in_continuation_byte", {"a": ["\u00e9"]}, {"a": "\u00e8"})
T("key_unicode_escape", r'{"\u0061":["x"]}', {"a": "x"})
T("key_utf8_vs_escaped_event_key", {"caf\u00e9": ["x"]}, r'{"caf\u00e9":"x"}')
T("key_escaped_quote", {'a"b': ["x"]}, {'a"b': "x"})
T("key_with_space", {"a b": ["x"]}, {"a b": "x"})
F("key_with_space_vs_without", {"a b": ["x"]}, {"ab": "x"})
F("key_case_sensitive", {"Key": ["x"]}, {"key": "x"})
T("key_numeric_text", {"0": ["x"]}, {"0": "x"})
T("key_emoji", {"\U0001F680": ["x"]}, r'{"\ud83d\ude80":"x"}')

# ---------------------------------------------------------------------------
topic("numbers")


def N(name, pnum, enum, expect):
    (T if expect else F)(name, '{"n":[%s]}' % pnum, '{"n":%s}' % enum)


N("int_equal", "300", "300", True)
N("int_vs_trailing_zero_fraction", "300", "300.0", True)
N("int_vs_exponent", "300", "3e2", True)
N("int_vs_exponent_upper", "300", "3E2", True)
N("int_vs_exponent_plus", "300", "3e+2", True)
N("int_vs_fraction_with_exponent", "300", "0.3e3", True)
N("int_vs_negative_exponent", "300", "30000e-2", True)
N("int_vs_many_trailing_zeros", "300", "300.000000", True)
N("exponent_pattern_vs_int_event", "3e2", "300", True)
N("float_pattern_vs_int_event", "300.0", "300", True)
N("exponent_pattern_vs_float_event", "3.0e2", "300.00", True)
N("int_vs_nearby_float", "300", "300.5", False)
N("int_vs_next_int", "300", "301", False)
N("int_vs_just_below", "300", "299.99999999999994", False)
N("negative_equal", "-5", "-5.0", True)
N("negative_vs_positive", "-5", "5", False)
N("zero_vs_zero_fraction", "0", "0.0", True)
N("zero_vs_negative_zero", "0", "-0", True)
N("negative_zero_vs_zero", "-0.0", "0", True)
N("zero_vs_zero_exponent", "0", "0e10", True)
N("zero_vs_tiny", "0", "0.000001", False)
N("fraction_trailing_zero", "1.5", "1.50", True)
N("fraction_vs_exponent", "1.5", "15e-1", True)
N("tenth_vs_exponent", "0.1", "1e-1", True)
N("tenth_vs_17_digit_form_of_same_double", "0.1", "0.10000000000000001", True)
N("point3_vs_sum_of_tenth_and_fifth", "0.3", "0.30000000000000004", False)
N("sum_of_tenth_and_fifth_equal", "0.30000000000000004", "0.30000000000000004", True)
N("float_17_digits_equal", "1.0000000000000002", "1.0000000000000002", True)
N("float_17_digits_vs_one", "1.0000000000000002", "1", False)
N("exponent_vs_long_integer", "1e20", "100000000000000000000", True)
N("long_integer_vs_exponent", "100000000000000000000", "1e20", True)
N("two_pow_53_vs_float", "9007199254740992", "9007199254740992.0", True)
N("two_pow_53_vs_exponent", "9007199254740992", "9.007199254740992e15", True)
N("event_two_pow_53_plus_one_is_its_nearest_double", "9007199254740992", "9007199254740993", True)
N("max_double_equal", "1.7976931348623157e308", "1.7976931348623157e308", True)
N("large_exponent_case", "1e308", "1E308", True)
N("min_subnormal_short_vs_long", "5e-324", "4.9406564584124654e-324", True)
N("min_normal_equal", "2.2250738585072014e-308", "2.2250738585072014E-308", True)
N("event_overflow_equals_nothing", "1e308", "1e400", False)
N("event_underflow_is_zero", "0", "1e-400", True)
N("event_17_digits_is_its_nearest_double", "0.3", "0.30000000000000001", True)
N("event_17_digit_integer_is_its_nearest_double", "12345678901234568", "12345678901234567", True)
N("sixteen_digit_fraction_equal", "0.1234567890123456", "0.12345678901234560", True)
T("number_in_event_array", '{"n":[2.0]}', '{"n":[1,2,3]}')
F("number_vs_true", {"n": [1]}, {"n": True})
F("number_vs_numeric_string", {"n": [1]}, {"n": "1.0"})
T("event_not_representable_still_exists", {"n": [{"exists": True}]}, '{"n":9007199254740993}')
T("event_overflow_still_exists", {"n": [{"exists": True}]}, '{"n":1e400}')
F("event_overflow_exists_false", {"n": [{"exists": False}]}, '{"n":-1e400}')
T("event_overflow_anything_but", {"n": [{"anything-but": 1}]}, '{"n":1e400}')
T("event_negative_overflow_anything_but_string", {"n": [{"anything-but": "x"}]}, '{"n":-1e400}')
ERR("pattern_overflow", '{"n":[1e400]}', "Cannot compare number 1e400")
ERR("pattern_negative_overflow", '{"n":[-1e400]}', "Cannot compare number -1e400")
ERR("pattern_overflow_upper_exponent_text_kept", '{"n":[1E400]}', "Cannot compare number 1E400")
ERR("pattern_underflow", '{"n":[1e-400]}', "Cannot compare number 1e-400")
ERR("pattern_17_digits_not_representable", '{"n":[0.30000000000000001]}',
    "Cannot compare number 0.30000000000000001")
ERR("pattern_two_pow_53_plus_one", '{"n":[9007199254740993]}',
    "Cannot compare number 9007199254740993")
ERR("pattern_negative_two_pow_53_plus_one", '{"n":[-9007199254740993]}',
    "Cannot compare number -9007199254740993")
ERR("pattern_17_digit_integer", '{"n":[12345678901234567]}',
    "Cannot compare number 12345678901234567")
ERR("pattern_not_representable_after_valid", '{"n":[1, 2, 9007199254740993]}',
    "Cannot compare number 9007199254740993")
ERR("pattern_not_representable_in_anything_but", '{"n":[{"anything-but":9007199254740993}]}',
    "Cannot compare number 9007199254740993")
ERR("pattern_not_representable_in_anything_but_list", '{"n":[{"anything-but":[1,1e400]}]}',
    "Cannot compare number 1e400")
ERR("pattern_not_representable_numeric_operand", '{"n":[{"numeric":[">",9007199254740993]}]}',
    "Cannot compare number 9007199254740993")
ERR("pattern_overflow_numeric_upper", '{"n":[{"numeric":[">",0,"<",1e400]}]}',
    "Cannot compare number 1e400")
ERR("pattern_not_representable_in_or", '{"$or":[{"n":[1]},{"m":[0.30000000000000001]}]}',
    "Cannot compare number 0.30000000000000001")

# ---------------------------------------------------------------------------
topic("prefix_suffix")

T("prefix_match", {"a": [{"prefix": "us-"}]}, {"a": "us-east-1"})
F("prefix_no_match", {"a": [{"prefix": "us-"}]}, {"a": "eu-west-1"})
T("prefix_equal_to_whole_value", {"a": [{"prefix": "us-east-1"}]}, {"a": "us-east-1"})
F("prefix_longer_than_value", {"a": [{"prefix": "us-east-1a"}]}, {"a": "us-east-1"})
F("prefix_case_sensitive", {"a": [{"prefix": "US-"}]}, {"a": "us-east-1"})
F("prefix_not_at_start", {"a": [{"prefix": "east"}]}, {"a": "us-east-1"})
T("prefix_empty_matches_any_string", {"a": [{"prefix": ""}]}, {"a": "abc"})
T("prefix_empty_matches_empty_string", {"a": [{"prefix": ""}]}, {"a": ""})
F("prefix_empty_vs_number", {"a": [{"prefix": ""}]}, {"a": 5})
F("prefix_empty_vs_null", {"a": [{"prefix": ""}]}, {"a": None})
F("prefix_empty_vs_true", {"a": [{"prefix": ""}]}, {"a": True})
F("prefix_empty_vs_missing", {"a": [{"prefix": ""}]}, {"b": "x"})
F("prefix_empty_vs_empty_array", {"a": [{"prefix": ""}]}, {"a": []})
F("prefix_empty_vs_object", {"a": [{"prefix": ""}]}, {"a": {"b": "x"}})
F("prefix_vs_number_with_that_prefix", {"a": [{"prefix": "1"}]}, {"a": 123})
F("prefix_vs_boolean", {"a": [{"prefix": "t"}]}, {"a": True})
F("prefix_vs_null", {"a": [{"prefix": "n"}]}, {"a": None})
T("prefix_multibyte", {"a": [{"prefix": "\u00e9"}]}, {"a": "\u00e9t\u00e9"})
F("prefix_multibyte_vs_ascii", {"a": [{"prefix": "e"}]}, {"a": "\u00e9t\u00e9"})
T("prefix_emoji", {"a": [{"prefix": "\U0001F680"}]}, {"a": "\U0001F680 launch"})
T("prefix_unicode_escape", r'{"a":[{"prefix":"\u0061b"}]}', {"a": "abc"})
T("prefix_operator_name_escaped", r'{"a":[{"pre\u0066ix":"x"}]}', {"a": "xyz"})
T("prefix_event_array_any_element", {"a": [{"prefix": "b"}]}, {"a": ["ax", "bx"]})
F("prefix_event_array_no_element", {"a": [{"prefix": "b"}]}, {"a": ["ax", "cx"]})
T("prefix_with_exact_in_same_list", {"a": ["zzz", {"prefix": "ab"}]}, {"a": "abc"})
T("prefix_two_in_list", {"a": [{"prefix": "a"}, {"prefix": "b"}]}, {"a": "bcd"})
F("prefix_two_in_list_none", {"a": [{"prefix": "a"}, {"prefix": "b"}]}, {"a": "cde"})
T("suffix_match", {"a": [{"suffix": ".png"}]}, {"a": "image.png"})
F("suffix_no_match", {"a": [{"suffix": ".png"}]}, {"a": "image.jpg"})
T("suffix_equal_to_whole_value", {"a": [{"suffix": ".png"}]}, {"a": ".png"})
F("suffix_longer_than_value", {"a": [{"suffix": "x.png"}]}, {"a": ".png"})
F("suffix_not_at_end", {"a": [{"suffix": "ab"}]}, {"a": "abc"})
T("suffix_empty_matches_any_string", {"a": [{"suffix": ""}]}, {"a": "abc"})
T("suffix_empty_matches_empty_string", {"a": [{"suffix": ""}]}, {"a": ""})
F("suffix_empty_vs_number", {"a": [{"suffix": ""}]}, {"a": 0})
F("suffix_vs_number_with_that_suffix", {"a": [{"suffix": "3"}]}, {"a": 123})
F("suffix_vs_null", {"a": [{"suffix": "l"}]}, {"a": None})
F("suffix_vs_false", {"a": [{"suffix": "e"}]}, {"a": False})
T("suffix_multibyte", {"a": [{"suffix": "\u00e9"}]}, {"a": "caf\u00e9"})
T("suffix_event_array", {"a": [{"suffix": "z"}]}, {"a": ["abc", "xyz"]})
T("prefix_ic_match", {"a": [{"prefix": {"equals-ignore-case": "EventB"}}]}, {"a": "eventbridge"})
T("prefix_ic_upper_event", {"a": [{"prefix": {"equals-ignore-case": "EventB"}}]}, {"a": "EVENTBRIDGE"})
F("prefix_ic_value_shorter", {"a": [{"prefix": {"equals-ignore-case": "EventB"}}]}, {"a": "Event"})
F("prefix_ic_not_at_start", {"a": [{"prefix": {"equals-ignore-case": "EventB"}}]}, {"a": "xEventB"})
F("prefix_ic_vs_number", {"a": [{"prefix": {"equals-ignore-case": "1"}}]}, {"a": 1})
F("prefix_ic_vs_null", {"a": [{"prefix": {"equals-ignore-case": "n"}}]}, {"a": None})
F("prefix_ic_vs_missing", {"a": [{"prefix": {"equals-ignore-case": "n"}}]}, {"b": "n"})
T("prefix_ic_latin1", {"a": [{"prefix": {"equals-ignore-case": "\u00c9T"}}]}, {"a": "\u00e9t\u00e9"})
T("prefix_ic_greek", {"a": [{"prefix": {"equals-ignore-case": "\u0391\u0392"}}]}, {"a": "\u03b1\u03b2\u03b3"})
T("prefix_ic_cyrillic", {"a": [{"prefix": {"equals-ignore-case": "\u041f\u0420\u0418"}}]},
  {"a": "\u043f\u0440\u0438\u0432\u0435\u0442"})
T("prefix_ic_empty_matches_any_string", {"a": [{"prefix": {"equals-ignore-case": ""}}]}, {"a": "abc"})
T("suffix_ic_match", {"a": [{"suffix": {"equals-ignore-case": ".PNG"}}]}, {"a": "a.png"})
T("suffix_ic_upper_event", {"a": [{"suffix": {"equals-ignore-case": ".png"}}]}, {"a": "A.PNG"})
F("suffix_ic_no_match", {"a": [{"suffix": {"equals-ignore-case": ".png"}}]}, {"a": "a.jpg"})
T("suffix_ic_latin1", {"a": [{"suffix": {"equals-ignore-case": "\u00c7\u00c3O"}}]}, {"a": "a\u00e7\u00e3o"})
F("suffix_ic_vs_number", {"a": [{"suffix": {"equals-ignore-case": "0"}}]}, {"a": 10})
ERR("prefix_null", {"a": [{"prefix": None}]}, "prefix match pattern must be a string")
ERR("prefix_true", {"a": [{"prefix": True}]}, "prefix match pattern must be a string")
ERR("prefix_number", {"a": [{"prefix": 5}]}, "prefix match pattern must be a string")
ERR("prefix_list_of_two", {"a": [{"prefix": ["a", "b"]}]}, "prefix match pattern must be a string")
ERR("prefix_ic_inner_number", {"a": [{"prefix": {"equals-ignore-case": 5}}]}, "prefix match pattern must be a string")
ERR("prefix_ic_inner_null", {"a": [{"prefix": {"equals-ignore-case": None}}]}, "prefix match pattern must be a string")
ERR("prefix_ic_inner_list", {"a": [{"prefix": {"equals-ignore-case": ["x"]}}]}, "prefix match pattern must be a string")
ERR("suffix_null", {"a": [{"suffix": None}]}, "suffix match pattern must be a string")
ERR("suffix_false", {"a": [{"suffix": False}]}, "suffix match pattern must be a string")
ERR("suffix_ic_inner_number", {"a": [{"suffix": {"equals-ignore-case": 5}}]}, "suffix match pattern must be a string")
ERR("suffix_ic_inner_list", {"a": [{"suffix": {"equals-ignore-case": ["x"]}}]}, "suffix match pattern must be a string")

# ---------------------------------------------------------------------------
topic("equals_ignore_case")


def EIC(name, pval, evalue, expect):
    (T if expect else F)(name, {"a": [{"equals-ignore-case": pval}]}, {"a": evalue})


EIC("ascii_upper_event", "alice", "ALICE", True)
EIC("ascii_capitalised_event", "alice", "Alice", True)
EIC("ascii_upper_pattern", "ALICE", "alice", True)
EIC("ascii_mixed_both", "aLiCe", "AlIcE", True)
EIC("ascii_shorter_event", "alice", "alic", False)
EIC("ascii_longer_event", "alice", "alices", False)
EIC("ascii_different", "alice", "bob", False)
EIC("digits_and_punctuation_unchanged", "a-1_b.2", "A-1_B.2", True)
EIC("punctuation_not_folded", "a[", "a{", False)
EIC("string_vs_number", "5", 5, False)
EIC("string_vs_null", "null", None, False)
EIC("string_vs_true", "true", True, False)
F("missing_field", {"a": [{"equals-ignore-case": "x"}]}, {"b": "x"})
EIC("event_array_any_element", "alice", ["bob", "ALICE"], True)
EIC("latin1_e_acute", "\u00c9COLE", "\u00e9cole", True)
EIC("latin1_n_tilde", "\u00f1", "\u00d1", True)
EIC("latin1_o_stroke", "\u00d8", "\u00f8", True)
EIC("latin1_thorn", "\u00de", "\u00fe", True)
EIC("latin1_a_grave", "\u00c0", "\u00e0", True)
EIC("latin1_vowels", "\u00c0\u00c9\u00ce\u00d5\u00dc", "\u00e0\u00e9\u00ee\u00f5\u00fc", True)
EIC("latin1_multiplication_sign_not_folded", "\u00d7", "\u00f7", False)
EIC("latin1_sharp_s_is_not_ss", "\u00df", "SS", False)
EIC("latin1_sharp_s_equal", "stra\u00dfe", "STRA\u00dfE", True)
EIC("latin1_e_acute_vs_plain_e", "\u00e9", "E", False)
EIC("latin_ext_a_a_macron", "\u0100", "\u0101", True)
EIC("latin_ext_a_l_stroke", "\u0141\u00f3d\u017a", "\u0142\u00d3D\u0179", True)
EIC("latin_ext_a_z_caron", "\u017d", "\u017e", True)
EIC("latin_ext_a_oe", "\u0152", "\u0153", True)
EIC("latin_ext_a_g_breve", "\u011e", "\u011f", True)
EIC("latin_ext_a_different_letters", "\u0100", "\u0102", False)
EIC("greek_word", "\u03a3\u039f\u03a6\u0399\u0391", "\u03c3\u03bf\u03c6\u03b9\u03b1", True)
EIC("greek_omega", "\u03a9", "\u03c9", True)
EIC("greek_alpha_lower_pattern", "\u03b1", "\u0391", True)
EIC("greek_final_sigma_not_folded", "\u03a3", "\u03c2", False)
EIC("cyrillic_word", "\u041c\u041e\u0421\u041a\u0412\u0410", "\u043c\u043e\u0441\u043a\u0432\u0430", True)
EIC("cyrillic_ya", "\u042f", "\u044f", True)
EIC("cyrillic_yo", "\u0401", "\u0451", True)
EIC("cyrillic_dje", "\u0402", "\u0452", True)
EIC("cyrillic_vs_latin_lookalike", "\u0410", "a", False)
EIC("fullwidth_not_folded", "\uff21", "\uff41", False)
EIC("armenian_not_folded", "\u0531", "\u0561", False)
EIC("kelvin_sign_not_folded", "\u212a", "k", False)
EIC("empty_vs_space", "", " ", False)
T("two_in_list", {"a": [{"equals-ignore-case": "a"}, {"equals-ignore-case": "b"}]}, {"a": "B"})
F("exact_value_is_case_sensitive", {"a": ["alice"]}, {"a": "ALICE"})
T("with_exact_in_list", {"a": ["x", {"equals-ignore-case": "y"}]}, {"a": "Y"})
ERR("number", {"a": [{"equals-ignore-case": 5}]}, "equals-ignore-case match pattern must be a string")
ERR("null", {"a": [{"equals-ignore-case": None}]}, "equals-ignore-case match pattern must be a string")
ERR("boolean", {"a": [{"equals-ignore-case": False}]}, "equals-ignore-case match pattern must be a string")
ERR("list_of_two", {"a": [{"equals-ignore-case": ["a", "b"]}]}, "equals-ignore-case match pattern must be a string")
ERR("object", {"a": [{"equals-ignore-case": {"suffix": "x"}}]}, "equals-ignore-case match pattern must be a string")
ERR("operator_name_case_sensitive", {"a": [{"Equals-Ignore-Case": "x"}]}, "Unrecognized match type Equals-Ignore-Case")

# ---------------------------------------------------------------------------
topic("anything_but")


def AB(name, pval, event, expect):
    (T if expect else F)(name, {"a": [{"anything-but": pval}]}, event)


AB("string_vs_other_string", "x", {"a": "y"}, True)
AB("string_vs_same", "x", {"a": "x"}, False)
AB("string_case_sensitive", "x", {"a": "X"}, True)
AB("string_vs_null", "x", {"a": None}, True)
AB("string_vs_number", "x", {"a": 5}, True)
AB("string_vs_true", "x", {"a": True}, True)
AB("string_vs_false", "x", {"a": False}, True)
AB("string_vs_empty_string", "x", {"a": ""}, True)
AB("string_vs_missing", "x", {"b": "y"}, False)
AB("string_vs_missing_parent", "x", {}, False)
AB("string_vs_empty_array", "x", {"a": []}, False)
AB("string_vs_object", "x", {"a": {"b": "y"}}, False)
AB("string_vs_array_only_excluded", "x", {"a": ["x"]}, False)
AB("string_vs_array_excluded_twice", "x", {"a": ["x", "x"]}, False)
AB("string_vs_array_with_other", "x", {"a": ["x", "y"]}, True)
AB("string_vs_array_with_null", "x", {"a": [None]}, True)
AB("string_number_text_vs_number", "5", {"a": 5}, True)
AB("empty_string_vs_empty_string", "", {"a": ""}, False)
AB("empty_string_vs_other", "", {"a": "a"}, True)
AB("number_vs_same", 5, {"a": 5}, False)
AB("number_vs_same_float_text", 5, '{"a":5.0}', False)
AB("number_vs_same_exponent_text", 5, '{"a":5e0}', False)
AB("number_vs_string", 5, {"a": "5"}, True)
AB("number_vs_other", 5, {"a": 6}, True)
AB("number_vs_negative", 5, {"a": -5}, True)
AB("number_vs_null", 5, {"a": None}, True)
AB("number_vs_true", 1, {"a": True}, True)
AB("number_vs_missing", 5, {"b": 5}, False)
AB("number_vs_array_with_other", 5, {"a": [5, 6]}, True)
AB("number_vs_array_only_excluded", 5, {"a": [5]}, False)
AB("zero_vs_negative_zero", 0, '{"a":-0}', False)
T("float_vs_sum_of_tenth_and_fifth", '{"a":[{"anything-but":0.3}]}', '{"a":0.30000000000000004}')
F("float_vs_same_float", '{"a":[{"anything-but":0.3}]}', '{"a":0.30}')
F("number_vs_event_rounding_to_the_same_double", '{"a":[{"anything-but":9007199254740992}]}', '{"a":9007199254740993}')
AB("string_list_vs_other", ["a", "b"], {"a": "c"}, True)
AB("string_list_vs_first", ["a", "b"], {"a": "a"}, False)
AB("string_list_vs_second", ["a", "b"], {"a": "b"}, False)
AB("string_list_vs_null", ["a", "b"], {"a": None}, True)
AB("string_list_vs_number", ["a", "b"], {"a": 1}, True)
AB("string_list_vs_missing", ["a", "b"], {}, False)
AB("string_list_vs_array_all_excluded", ["a", "b"], {"a": ["a", "b"]}, False)
AB("string_list_vs_array_one_other", ["a", "b"], {"a": ["a", "c"]}, True)
AB("single_string_list_vs_same", ["a"], {"a": "a"}, False)
AB("single_string_list_vs_other", ["a"], {"a": "b"}, True)
AB("number_list_vs_other", [1, 2], {"a": 3}, True)
AB("number_list_vs_first", [1, 2], {"a": 1}, False)
AB("number_list_vs_second_float_text", [1, 2], '{"a":2.0}', False)
AB("number_list_vs_string", [1, 2], {"a": "1"}, True)
AB("number_list_vs_null", [1, 2], {"a": None}, True)
AB("number_list_vs_missing", [1, 2], {"b": 3}, False)
AB("prefix_vs_other", {"prefix": "init"}, {"a": "post-init"}, True)
AB("prefix_vs_prefixed", {"prefix": "init"}, {"a": "init-x"}, False)
AB("prefix_vs_exactly_prefix", {"prefix": "init"}, {"a": "init"}, False)
AB("prefix_case_sensitive", {"prefix": "init"}, {"a": "INIT"}, True)
AB("prefix_vs_empty_string", {"prefix": "init"}, {"a": ""}, True)
AB("prefix_vs_number", {"prefix": "1"}, {"a": 12}, True)
AB("prefix_vs_null", {"prefix": "n"}, {"a": None}, True)
AB("prefix_vs_true", {"prefix": "t"}, {"a": True}, True)
AB("prefix_vs_missing", {"prefix": "init"}, {}, False)
AB("prefix_vs_array_with_other", {"prefix": "init"}, {"a": ["init-a", "post"]}, True)
AB("prefix_vs_array_all_prefixed", {"prefix": "init"}, {"a": ["init-a", "init-b"]}, False)
AB("prefix_list_vs_other", {"prefix": ["a", "b"]}, {"a": "cx"}, True)
AB("prefix_list_vs_second", {"prefix": ["a", "b"]}, {"a": "bx"}, False)
AB("suffix_vs_suffixed", {"suffix": ".txt"}, {"a": "a.txt"}, False)
AB("suffix_vs_other", {"suffix": ".txt"}, {"a": "a.txt.bak"}, True)
AB("suffix_vs_null", {"suffix": ".txt"}, {"a": None}, True)
AB("suffix_vs_number", {"suffix": "5"}, {"a": 5}, True)
AB("suffix_vs_empty_string", {"suffix": ".txt"}, {"a": ""}, True)
AB("suffix_vs_missing", {"suffix": ".txt"}, {"b": "x"}, False)
AB("suffix_list_vs_first", {"suffix": [".a", ".b"]}, {"a": "x.a"}, False)
AB("ignorecase_vs_upper", {"equals-ignore-case": "init"}, {"a": "INIT"}, False)
AB("ignorecase_vs_same", {"equals-ignore-case": "Init"}, {"a": "init"}, False)
AB("ignorecase_vs_other", {"equals-ignore-case": "init"}, {"a": "other"}, True)
AB("ignorecase_vs_null", {"equals-ignore-case": "init"}, {"a": None}, True)
AB("ignorecase_vs_number", {"equals-ignore-case": "5"}, {"a": 5}, True)
AB("ignorecase_vs_true", {"equals-ignore-case": "true"}, {"a": True}, True)
AB("ignorecase_vs_missing", {"equals-ignore-case": "init"}, {}, False)
AB("ignorecase_list_vs_second", {"equals-ignore-case": ["a", "B"]}, {"a": "b"}, False)
AB("ignorecase_list_vs_first", {"equals-ignore-case": ["a", "B"]}, {"a": "A"}, False)
AB("ignorecase_list_vs_other", {"equals-ignore-case": ["a", "B"]}, {"a": "c"}, True)
AB("ignorecase_latin1", {"equals-ignore-case": "\u00c9T\u00c9"}, {"a": "\u00e9t\u00e9"}, False)
AB("ignorecase_prefix_is_not_equal", {"equals-ignore-case": "init"}, {"a": "INITIAL"}, True)
AB("wildcard_vs_matching", {"wildcard": "*.txt"}, {"a": "a.txt"}, False)
AB("wildcard_vs_other", {"wildcard": "*.txt"}, {"a": "a.doc"}, True)
AB("wildcard_vs_number", {"wildcard": "*"}, {"a": 5}, True)
AB("wildcard_vs_null", {"wildcard": "*"}, {"a": None}, True)
AB("wildcard_star_vs_string", {"wildcard": "*"}, {"a": "x"}, False)
AB("wildcard_vs_missing", {"wildcard": "*.txt"}, {}, False)
AB("wildcard_empty_vs_empty_string", {"wildcard": ""}, {"a": ""}, False)
AB("wildcard_empty_vs_string", {"wildcard": ""}, {"a": "x"}, True)
AB("wildcard_list_vs_second", {"wildcard": ["*/a/*", "*/b/*"]}, {"a": "x/b/y"}, False)
AB("wildcard_list_vs_other", {"wildcard": ["*/a/*", "*/b/*"]}, {"a": "x/c/y"}, True)
AB("wildcard_escaped_star", {"wildcard": "a\\*"}, {"a": "a*"}, False)
AB("wildcard_escaped_star_vs_other", {"wildcard": "a\\*"}, {"a": "ab"}, True)
T("with_exists_false_present_other", {"a": [{"anything-but": "x"}, {"exists": False}]}, {"a": "y"})
T("with_exists_false_missing", {"a": [{"anything-but": "x"}, {"exists": False}]}, {})
F("with_exists_false_excluded", {"a": [{"anything-but": "x"}, {"exists": False}]}, {"a": "x"})
T("or_with_exact_value", {"a": [{"anything-but": "x"}, "x"]}, {"a": "x"})
T("two_fields", {"a": [{"anything-but": "x"}], "b": [{"anything-but": 1}]}, {"a": "y", "b": 2})
F("two_fields_one_excluded", {"a": [{"anything-but": "x"}], "b": [{"anything-but": 1}]}, {"a": "y", "b": 1})
ABMSG = "Value of anything-but must be an array or single string/number value."
LISTMSG = "Inside anything but list, start|null|boolean is not supported."
EICMSG = "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
PSMSG = "prefix/suffix match pattern must be a string"
ERR("null", {"a": [{"anything-but": None}]}, ABMSG)
ERR("true", {"a": [{"anything-but": True}]}, ABMSG)
ERR("false", {"a": [{"anything-but": False}]}, ABMSG)
ERR("object_unknown_key", {"a": [{"anything-but": {"foo": "x"}}]}, ABMSG)
ERR("object_two_keys", {"a": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}, ABMSG)
ERR("object_numeric", {"a": [{"anything-but": {"numeric": [">", 1]}}]}, ABMSG)
ERR("object_exists", {"a": [{"anything-but": {"exists": True}}]}, ABMSG)
ERR("object_cidr", {"a": [{"anything-but": {"cidr": "10.0.0.0/8"}}]}, ABMSG)
ERR("object_nested_anything_but", {"a": [{"anything-but": {"anything-but": "x"}}]}, ABMSG)
ERR("object_miscased_prefix", {"a": [{"anything-but": {"Prefix": "x"}}]}, ABMSG)
ERR("empty_list", {"a": [{"anything-but": []}]}, "Empty arrays are not allowed")
ERR("list_string_then_number", {"a": [{"anything-but": ["a", 1]}]}, LISTMSG)
ERR("list_number_then_string", {"a": [{"anything-but": [1, "a"]}]}, LISTMSG)
ERR("list_true", {"a": [{"anything-but": [True]}]}, LISTMSG)
ERR("list_null", {"a": [{"anything-but": [None]}]}, LISTMSG)
ERR("list_number_then_false", {"a": [{"anything-but": [1, False]}]}, LISTMSG)
ERR("list_object", {"a": [{"anything-but": [{"prefix": "a"}]}]}, LISTMSG)
ERR("prefix_empty", {"a": [{"anything-but": {"prefix": ""}}]}, "Null prefix/suffix not allowed")
ERR("suffix_empty", {"a": [{"anything-but": {"suffix": ""}}]}, "Null prefix/suffix not allowed")
ERR("prefix_null", {"a": [{"anything-but": {"prefix": None}}]}, PSMSG)
ERR("prefix_true", {"a": [{"anything-but": {"prefix": True}}]}, PSMSG)
ERR("prefix_list_with_number", {"a": [{"anything-but": {"prefix": ["a", 1]}}]}, PSMSG)
ERR("suffix_number", {"a": [{"anything-but": {"suffix": 5}}]}, PSMSG)
ERR("suffix_list_with_false", {"a": [{"anything-but": {"suffix": [".a", False]}}]}, PSMSG)
ERR("ignorecase_number", {"a": [{"anything-but": {"equals-ignore-case": 5}}]}, EICMSG)
ERR("ignorecase_null", {"a": [{"anything-but": {"equals-ignore-case": None}}]}, EICMSG)
ERR("ignorecase_true", {"a": [{"anything-but": {"equals-ignore-case": True}}]}, EICMSG)
ERR("ignorecase_list_with_null", {"a": [{"anything-but": {"equals-ignore-case": ["a", None]}}]}, EICMSG)
ERR("ignorecase_list_with_false", {"a": [{"anything-but": {"equals-ignore-case": ["a", False]}}]}, EICMSG)
ERR("ignorecase_list_with_number", {"a": [{"anything-but": {"equals-ignore-case": ["a", 1]}}]}, EICMSG)
ERR("wildcard_number", {"a": [{"anything-but": {"wildcard": 5}}]}, "wildcard match pattern must be a string")
ERR("wildcard_null", {"a": [{"anything-but": {"wildcard": None}}]}, "wildcard match pattern must be a string")
ERR("wildcard_list_with_true", {"a": [{"anything-but": {"wildcard": ["*", True]}}]},
    "wildcard match pattern must be a string")
ERR("operator_name_case_sensitive", {"a": [{"Anything-But": "x"}]}, "Unrecognized match type Anything-But")

# ---------------------------------------------------------------------------
topic("numeric")


def NUM(name, expr, enum, expect):
    (T if expect else F)(name, '{"a":[{"numeric":%s}]}' % expr, '{"a":%s}' % enum)


NUM("eq_int", '["=",5]', "5", True)
NUM("eq_float_text", '["=",5]', "5.0", True)
NUM("eq_exponent_text", '["=",5]', "5e0", True)
NUM("eq_near_miss", '["=",5]', "4.999", False)
NUM("eq_string", '["=",5]', '"5"', False)
NUM("eq_null", '["=",5]', "null", False)
NUM("eq_true", '["=",1]', "true", False)
NUM("eq_array_any", '["=",5]', "[1,5]", True)
NUM("eq_array_none", '["=",5]', "[1,2]", False)
NUM("eq_operand_exponent", '["=",3e2]', "300", True)
NUM("eq_operand_float", '["=",3.018e2]', "301.8", True)
NUM("eq_negative_zero", '["=",0]', "-0", True)
NUM("gt_equal_value", '[">",0]', "0", False)
NUM("gt_just_above", '[">",0]', "0.0001", True)
NUM("gt_below", '[">",0]', "-1", False)
NUM("gt_huge", '[">",0]', "1e300", True)
NUM("ge_equal_value", '[">=",0]', "0", True)
NUM("ge_negative_zero", '[">=",0]', "-0", True)
NUM("ge_below", '[">=",0]', "-0.0001", False)
NUM("lt_equal_value", '["<",5]', "5", False)
NUM("lt_below", '["<",5]', "4.9999", True)
NUM("le_equal_value", '["<=",5]', "5", True)
NUM("le_above", '["<=",5]', "5.0000001", False)
NUM("range_open_closed_low_edge", '[">",0,"<=",5]', "0", False)
NUM("range_open_closed_high_edge", '[">",0,"<=",5]', "5", True)
NUM("range_open_closed_inside", '[">",0,"<=",5]', "3", True)
NUM("range_open_closed_above", '[">",0,"<=",5]', "6", False)
NUM("range_closed_open_low_edge", '[">=",0,"<",5]', "0", True)
NUM("range_closed_open_high_edge", '[">=",0,"<",5]', "5", False)
NUM("range_upper_bound_first_inside", '["<",10,">",0]', "5", True)
NUM("range_upper_bound_first_high_edge", '["<",10,">",0]', "10", False)
NUM("range_upper_bound_first_low_edge", '["<",10,">",0]', "0", False)
NUM("range_negative_inside", '[">=",-10,"<=",-5]', "-7", True)
NUM("range_negative_edge", '[">=",-10,"<=",-5]', "-10", True)
NUM("range_negative_above", '[">=",-10,"<=",-5]', "-4", False)
NUM("range_fractional", '[">",0.1,"<",0.2]', "0.15", True)
NUM("eq_point3_vs_float_sum", '["=",0.3]', "0.30000000000000004", False)
NUM("gt_point3_vs_float_sum", '[">",0.3]', "0.30000000000000004", True)
NUM("lt_point3_vs_float_sum", '["<",0.3]', "0.30000000000000004", False)
NUM("eq_tenth_vs_17_digit_form", '["=",0.1]', "0.10000000000000001", True)
NUM("beyond_old_5e9_limit_gt", '[">",5000000000]', "5000000001", True)
NUM("beyond_old_5e9_limit_lt", '["<",-5000000000]', "-5000000001", True)
NUM("large_exponents", '[">",1e15]', "1e16", True)
NUM("large_exponents_upper", '["<",1e300]', "1e299", True)
NUM("six_plus_decimals", '[">",0.0000001,"<",0.0000003]', "0.0000002", True)
NUM("event_not_representable_fails_gt", '[">",9007199254740992]', "9007199254740993", False)
NUM("event_beyond_2_pow_53_compares_as_nearest_double", '["<",1e300]', "9007199254740993", True)
NUM("event_overflow_fails_gt", '[">",0]', "1e400", False)
NUM("event_negative_overflow_fails_lt", '["<",0]', "-1e400", False)
NUM("event_underflow_equals_zero", '["=",0]', "1e-400", True)
NUM("event_underflow_is_below_one", '["<",1]', "1e-400", True)
NUM("string_number_never_matches", '[">",5]', '"6"', False)
NUM("string_text_never_matches", '[">",5]', '"abc"', False)
NUM("boolean_never_matches", '[">",0]', "true", False)
NUM("object_never_matches", '[">",0]', '{"b":1}', False)
NUM("empty_array_never_matches", '[">",0]', "[]", False)
F("missing_field", {"a": [{"numeric": [">", 0]}]}, {"b": 1})
T("two_ranges_or_upper", {"a": [{"numeric": ["<", 0]}, {"numeric": [">", 10]}]}, {"a": 11})
T("two_ranges_or_lower", {"a": [{"numeric": ["<", 0]}, {"numeric": [">", 10]}]}, {"a": -1})
F("two_ranges_or_between", {"a": [{"numeric": ["<", 0]}, {"numeric": [">", 10]}]}, {"a": 5})
T("exact_number_and_range_in_one_list", '{"a":[5,{"numeric":[">",10]}]}', '{"a":5.0}')
F("exact_number_and_range_in_one_list_neither", '{"a":[5,{"numeric":[">",10]}]}', '{"a":7}')
T("numeric_or_exact_string", {"a": [{"numeric": [">", 100]}, "low"]}, {"a": "low"})
ERR("not_array_number", {"a": [{"numeric": 5}]}, "Value of numeric must be an array.")
ERR("not_array_string", {"a": [{"numeric": ">5"}]}, "Value of numeric must be an array.")
ERR("not_array_object", {"a": [{"numeric": {">": 5}}]}, "Value of numeric must be an array.")
ERR("not_array_null", {"a": [{"numeric": None}]}, "Value of numeric must be an array.")
ERR("not_array_true", {"a": [{"numeric": True}]}, "Value of numeric must be an array.")
ERR("unknown_operator_ne", {"a": [{"numeric": ["!=", 5]}]}, "Unrecognized numeric range operator: !=")
ERR("unknown_operator_eqeq", {"a": [{"numeric": ["==", 5]}]}, "Unrecognized numeric range operator: ==")
ERR("unknown_operator_word", {"a": [{"numeric": ["gt", 5]}]}, "Unrecognized numeric range operator: gt")
ERR("unknown_second_operator", {"a": [{"numeric": [">=", 1, "=<", 5]}]}, "Unrecognized numeric range operator: =<")
ERR("operand_string", {"a": [{"numeric": ["<", "5"]}]}, "Value of < must be numeric")
ERR("operand_null", {"a": [{"numeric": [">", None]}]}, "Value of > must be numeric")
ERR("operand_true", {"a": [{"numeric": ["=", True]}]}, "Value of = must be numeric")
ERR("operand_list", {"a": [{"numeric": [">=", [1]]}]}, "Value of >= must be numeric")
ERR("lone_le", {"a": [{"numeric": ["<="]}]}, "Value of <= must be numeric")
ERR("lone_eq", {"a": [{"numeric": ["="]}]}, "Value of = must be numeric")
ERR("second_operand_null", {"a": [{"numeric": [">", 0, "<", None]}]}, "Value of < must be numeric")
ERR("two_upper_lt_lt", {"a": [{"numeric": ["<", 5, "<", 10]}]}, "Bad numeric range operator: <")
ERR("two_upper_lt_le", {"a": [{"numeric": ["<", 5, "<=", 10]}]}, "Bad numeric range operator: <=")
ERR("two_lower_ge_gt", {"a": [{"numeric": [">=", 0, ">", 1]}]}, "Bad numeric range operator: >")
ERR("two_lower_gt_ge", {"a": [{"numeric": [">", 0, ">=", 1]}]}, "Bad numeric range operator: >=")
ERR("after_eq_gt", {"a": [{"numeric": ["=", 5, ">", 1]}]}, "Bad numeric range operator: >")
ERR("after_eq_lt", {"a": [{"numeric": ["=", 5, "<", 10]}]}, "Bad numeric range operator: <")
ERR("after_eq_eq", {"a": [{"numeric": ["=", 5, "=", 5]}]}, "Bad numeric range operator: =")
ERR("bottom_equals_top_open", {"a": [{"numeric": [">", 5, "<", 5]}]}, "Bottom must be less than top")
ERR("bottom_equals_top_closed", {"a": [{"numeric": [">=", 5, "<=", 5]}]}, "Bottom must be less than top")
ERR("bottom_above_top", {"a": [{"numeric": [">", 10, "<", 1]}]}, "Bottom must be less than top")
ERR("bottom_above_top_upper_first", {"a": [{"numeric": ["<", 1, ">", 10]}]}, "Bottom must be less than top")
ERR("too_many_terms", {"a": [{"numeric": [">", 0, "<", 10, "=", 5]}]}, "Too many terms in numeric range expression")
ERR("operator_name_case_sensitive", {"a": [{"Numeric": [">", 0]}]}, "Unrecognized match type Numeric")

# ---------------------------------------------------------------------------
topic("exists")

ET = {"a": [{"exists": True}]}
EF = {"a": [{"exists": False}]}
T("true_string", ET, {"a": "x"})
T("true_empty_string", ET, {"a": ""})
T("true_zero", ET, {"a": 0})
T("true_false", ET, {"a": False})
T("true_null", ET, {"a": None})
F("true_empty_array", ET, {"a": []})
T("true_array_of_null", ET, {"a": [None]})
T("true_array_of_number", ET, {"a": [1]})
F("true_empty_object", ET, {"a": {}})
F("true_object", ET, {"a": {"b": 1}})
F("true_missing", ET, {"b": 1})
F("true_nested_array_of_empty_arrays", ET, {"a": [[]]})
T("true_nested_array_with_value", ET, {"a": [[], [1]]})
F("true_array_of_objects", ET, {"a": [{"b": 1}]})
T("true_not_representable_number", ET, '{"a":9007199254740993}')
F("true_nested_parent_missing", {"a": {"b": [{"exists": True}]}}, {"c": 1})
F("true_nested_parent_scalar", {"a": {"b": [{"exists": True}]}}, {"a": 5})
T("true_nested_through_array_of_objects", {"a": {"b": [{"exists": True}]}}, {"a": [{"c": 1}, {"b": 2}]})
F("true_nested_array_of_objects_without_field", {"a": {"b": [{"exists": True}]}}, {"a": [{"c": 1}, {"d": 2}]})
T("true_dot_joined_event_key", {"a": {"b": [{"exists": True}]}}, {"a.b": 1})
T("false_missing", EF, {"b": 1})
T("false_empty_array", EF, {"a": []})
T("false_empty_object", EF, {"a": {}})
T("false_object", EF, {"a": {"b": 1}})
T("false_nested_empty_arrays", EF, {"a": [[], []]})
T("false_array_of_objects", EF, {"a": [{"b": 1}]})
F("false_null", EF, {"a": None})
F("false_empty_string", EF, {"a": ""})
F("false_zero", EF, {"a": 0})
F("false_false", EF, {"a": False})
F("false_array_of_null", EF, {"a": [None]})
F("false_not_representable_number", EF, '{"a":9007199254740993}')
T("false_nested_parent_missing", {"a": {"b": [{"exists": False}]}}, {"c": 1})
T("false_nested_parent_scalar", {"a": {"b": [{"exists": False}]}}, {"a": 5})
T("false_nested_parent_null", {"a": {"b": [{"exists": False}]}}, {"a": None})
T("false_nested_parent_empty_array", {"a": {"b": [{"exists": False}]}}, {"a": []})
F("false_nested_array_of_objects_with_field", {"a": {"b": [{"exists": False}]}}, {"a": [{"c": 1}, {"b": 2}]})
T("false_nested_array_of_objects_without_field", {"a": {"b": [{"exists": False}]}}, {"a": [{"c": 1}, {"d": 2}]})
F("false_dot_joined_event_key", {"a": {"b": [{"exists": False}]}}, {"a.b": None})
T("true_or_false_present", {"a": [{"exists": True}, {"exists": False}]}, {"a": 1})
T("true_or_false_absent", {"a": [{"exists": True}, {"exists": False}]}, {})
T("false_or_value_absent", {"a": ["x", {"exists": False}]}, {})
T("false_or_value_value", {"a": ["x", {"exists": False}]}, {"a": "x"})
F("false_or_value_other", {"a": ["x", {"exists": False}]}, {"a": "y"})
T("false_with_other_field", {"a": [{"exists": False}], "b": ["x"]}, {"b": "x"})
F("false_with_other_field_present", {"a": [{"exists": False}], "b": ["x"]}, {"a": 1, "b": "x"})
F("false_with_other_field_failing", {"a": [{"exists": False}], "b": ["x"]}, {"b": "y"})
T("true_and_false_two_fields", {"a": [{"exists": True}], "b": [{"exists": False}]}, {"a": None})
ERR("string_true", {"a": [{"exists": "true"}]}, "exists match pattern must be either true or false.")
ERR("number_one", {"a": [{"exists": 1}]}, "exists match pattern must be either true or false.")
ERR("number_zero", {"a": [{"exists": 0}]}, "exists match pattern must be either true or false.")
ERR("null", {"a": [{"exists": None}]}, "exists match pattern must be either true or false.")
ERR("list", {"a": [{"exists": [True]}]}, "exists match pattern must be either true or false.")
ERR("object", {"a": [{"exists": {"b": True}}]}, "exists match pattern must be either true or false.")
ERR("operator_name_case_sensitive", {"a": [{"Exists": True}]}, "Unrecognized match type Exists")

# ---------------------------------------------------------------------------
topic("cidr")


def CIDR(name, rng, addr, expect):
    (T if expect else F)(name, {"a": [{"cidr": rng}]}, {"a": addr})


CIDR("v4_24_network_address", "10.0.0.0/24", "10.0.0.0", True)
CIDR("v4_24_broadcast_address", "10.0.0.0/24", "10.0.0.255", True)
CIDR("v4_24_inside", "10.0.0.0/24", "10.0.0.42", True)
CIDR("v4_24_just_above", "10.0.0.0/24", "10.0.1.0", False)
CIDR("v4_24_just_below", "10.0.0.0/24", "9.255.255.255", False)
CIDR("v4_number_value", "10.0.0.0/24", 10, False)
CIDR("v4_null_value", "10.0.0.0/24", None, False)
CIDR("v4_true_value", "10.0.0.0/24", True, False)
CIDR("v4_three_octets", "10.0.0.0/24", "10.0.0", False)
CIDR("v4_five_octets", "10.0.0.0/24", "10.0.0.1.5", False)
CIDR("v4_octet_too_big", "10.0.0.0/24", "10.0.0.256", False)
CIDR("v4_not_an_address", "10.0.0.0/24", "hello", False)
CIDR("v4_empty_string", "10.0.0.0/24", "", False)
CIDR("v4_with_port", "10.0.0.0/24", "10.0.0.1:80", False)
CIDR("v4_event_array_any", "10.0.0.0/24", ["1.2.3.4", "10.0.0.7"], True)
CIDR("v4_event_array_none", "10.0.0.0/24", ["1.2.3.4", "10.0.1.7"], False)
F("v4_missing", {"a": [{"cidr": "10.0.0.0/24"}]}, {"b": "10.0.0.1"})
CIDR("v4_range_vs_v6_address", "10.0.0.0/8", "2001:db8::1", False)
CIDR("v4_slash0_zero", "0.0.0.0/0", "0.0.0.0", True)
CIDR("v4_slash0_max", "0.0.0.0/0", "255.255.255.255", True)
CIDR("v4_slash0_any", "0.0.0.0/0", "8.8.8.8", True)
CIDR("v4_slash0_not_an_address", "0.0.0.0/0", "not-an-ip", False)
CIDR("v4_slash32_same", "192.168.1.1/32", "192.168.1.1", True)
CIDR("v4_slash32_next", "192.168.1.1/32", "192.168.1.2", False)
CIDR("v4_slash32_previous", "192.168.1.1/32", "192.168.1.0", False)
CIDR("v4_slash31_first", "192.168.1.0/31", "192.168.1.0", True)
CIDR("v4_slash31_second", "192.168.1.0/31", "192.168.1.1", True)
CIDR("v4_slash31_third", "192.168.1.0/31", "192.168.1.2", False)
CIDR("v4_slash12_top", "172.16.0.0/12", "172.31.255.255", True)
CIDR("v4_slash12_above", "172.16.0.0/12", "172.32.0.0", False)
CIDR("v4_slash12_below", "172.16.0.0/12", "172.15.255.255", False)
CIDR("v4_slash1_below", "128.0.0.0/1", "127.255.255.255", False)
CIDR("v4_slash1_bottom", "128.0.0.0/1", "128.0.0.0", True)
CIDR("v4_slash1_top", "128.0.0.0/1", "255.255.255.255", True)
CIDR("v6_32_network", "2001:db8::/32", "2001:db8::", True)
CIDR("v6_32_top", "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", True)
CIDR("v6_32_above", "2001:db8::/32", "2001:db9::", False)
CIDR("v6_32_below", "2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", False)
CIDR("v6_uppercase_hex", "2001:db8::/32", "2001:DB8::1", True)
CIDR("v6_full_form", "2001:db8::/32", "2001:0db8:0000:0000:0000:0000:0000:0001", True)
CIDR("v6_compressed_middle", "2001:db8::/32", "2001:db8::ff00:42:8329", True)
CIDR("v6_range_vs_v4_address", "2001:db8::/32", "10.0.0.1", False)
CIDR("v6_not_an_address", "2001:db8::/32", "2001:db8::g", False)
CIDR("v6_slash0_zero", "::/0", "::", True)
CIDR("v6_slash0_max", "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", True)
CIDR("v6_slash0_any", "::/0", "2001:db8::1", True)
CIDR("v6_slash128_same", "2001:db8::1/128", "2001:db8::1", True)
CIDR("v6_slash128_same_long_form", "2001:db8::1/128", "2001:db8:0:0:0:0:0:1", True)
CIDR("v6_slash128_next", "2001:db8::1/128", "2001:db8::2", False)
CIDR("v6_slash127_second", "2001:db8::/127", "2001:db8::1", True)
CIDR("v6_slash127_third", "2001:db8::/127", "2001:db8::2", False)
CIDR("v6_slash10_inside", "fe80::/10", "febf:ffff::", True)
CIDR("v6_slash10_above", "fe80::/10", "fec0::", False)
CIDR("v6_slash64_top", "2001:db8:1234:1a00::/64", "2001:db8:1234:1a00:ffff:ffff:ffff:ffff", True)
CIDR("v6_slash64_next", "2001:db8:1234:1a00::/64", "2001:db8:1234:1a01::", False)
T("v4_or_v6_list", {"a": [{"cidr": "10.0.0.0/8"}, {"cidr": "2001:db8::/32"}]}, {"a": "2001:db8::5"})
ERR("no_slash_address", {"a": [{"cidr": "10.0.0.1"}]}, "Malformed CIDR, one '/' required")
ERR("no_slash_empty", {"a": [{"cidr": ""}]}, "Malformed CIDR, one '/' required")
ERR("mask_empty", {"a": [{"cidr": "10.0.0.0/"}]}, "Malformed CIDR, mask bits must be an integer")
ERR("mask_word", {"a": [{"cidr": "10.0.0.0/abc"}]}, "Malformed CIDR, mask bits must be an integer")
ERR("mask_fraction", {"a": [{"cidr": "10.0.0.0/2.5"}]}, "Malformed CIDR, mask bits must be an integer")
ERR("mask_v4_33", {"a": [{"cidr": "10.0.0.0/33"}]}, "Malformed CIDR, mask bits must be an integer")
ERR("mask_v4_negative", {"a": [{"cidr": "10.0.0.0/-1"}]}, "Malformed CIDR, mask bits must be an integer")
ERR("mask_v6_129", {"a": [{"cidr": "2001:db8::/129"}]}, "Malformed CIDR, mask bits must be an integer")
ERR("address_octet_256", {"a": [{"cidr": "256.0.0.0/8"}]}, "Nonstandard IP address: 256.0.0.0")
ERR("address_three_octets", {"a": [{"cidr": "10.0.0/24"}]}, "Nonstandard IP address: 10.0.0")
ERR("address_five_octets", {"a": [{"cidr": "1.2.3.4.5/8"}]}, "Nonstandard IP address: 1.2.3.4.5")
ERR("address_word", {"a": [{"cidr": "hello/8"}]}, "Nonstandard IP address: hello")
ERR("address_v6_bad_hex", {"a": [{"cidr": "2001:db8::g/64"}]}, "Nonstandard IP address: 2001:db8::g")
ERR("address_v6_nine_groups", {"a": [{"cidr": "1:2:3:4:5:6:7:8:9/64"}]}, "Nonstandard IP address: 1:2:3:4:5:6:7:8:9")
ERR("address_v6_two_double_colons", {"a": [{"cidr": "2001::db8::1/64"}]}, "Nonstandard IP address: 2001::db8::1")
ERR("not_string_number", {"a": [{"cidr": 10}]}, "prefix match pattern must be a string")
ERR("not_string_null", {"a": [{"cidr": None}]}, "prefix match pattern must be a string")
ERR("not_string_true", {"a": [{"cidr": True}]}, "prefix match pattern must be a string")
ERR("not_string_object", {"a": [{"cidr": {"v4": "10.0.0.0/8"}}]}, "prefix match pattern must be a string")
ERR("operator_name_case_sensitive", {"a": [{"CIDR": "10.0.0.0/8"}]}, "Unrecognized match type CIDR")

# ---------------------------------------------------------------------------
topic("wildcard")


def WC(name, pat, value, expect):
    (T if expect else F)(name, {"a": [{"wildcard": pat}]}, {"a": value})


WC("star_matches_empty", "*", "", True)
WC("star_matches_any", "*", "anything", True)
WC("star_vs_number", "*", 5, False)
WC("star_vs_null", "*", None, False)
WC("star_vs_true", "*", True, False)
F("star_vs_missing", {"a": [{"wildcard": "*"}]}, {"b": "x"})
WC("empty_matches_empty", "", "", True)
WC("empty_vs_nonempty", "", "x", False)
WC("no_star_equal", "abc", "abc", True)
WC("no_star_longer_value", "abc", "abcd", False)
WC("no_star_case_sensitive", "abc", "ABC", False)
WC("leading_star", "*.png", "a.png", True)
WC("leading_star_empty_run", "*.png", ".png", True)
WC("leading_star_not_at_end", "*.png", "a.png.bak", False)
WC("trailing_star_empty_run", "img*", "img", True)
WC("trailing_star", "img*", "img01", True)
WC("trailing_star_too_short", "img*", "im", False)
WC("middle_star_empty_run", "a*z", "az", True)
WC("middle_star", "a*z", "abcz", True)
WC("middle_star_wrong_end", "a*z", "abc", False)
WC("middle_star_wrong_start", "a*z", "zaz", False)
WC("two_stars", "a*b*c", "aXbYc", True)
WC("two_stars_tight", "a*b*c", "abc", True)
WC("two_stars_order", "a*b*c", "acb", False)
WC("two_stars_repeats", "a*b*c", "abcbc", True)
WC("backtracking_repeat", "*ab*ab", "abab", True)
WC("backtracking_repeat_extra", "*ab*ab", "aabab", True)
WC("backtracking_gap", "*ab*ab", "abxab", True)
WC("backtracking_trailing", "*ab*ab", "abab_", False)
WC("five_stars", "*a*b*c*d*", "xaybzcwdv", True)
WC("five_stars_order", "*a*b*c*d*", "abdc", False)
WC("escaped_star_literal", "\\*", "*", True)
WC("escaped_star_not_wildcard", "\\*", "x", False)
WC("escaped_star_vs_backslash_star", "\\*", "\\*", False)
WC("escaped_star_in_middle", "a\\*b", "a*b", True)
WC("escaped_star_in_middle_other", "a\\*b", "axb", False)
WC("escaped_backslash_literal", "\\\\", "\\", True)
WC("escaped_backslash_then_star", "a\\\\*", "a\\xyz", True)
WC("escaped_backslash_then_star_empty", "a\\\\*", "a\\", True)
WC("escaped_backslash_then_star_missing_backslash", "a\\\\*", "axyz", False)
WC("escaped_star_then_star", "\\**", "*abc", True)
WC("escaped_star_then_star_no_literal", "\\**", "abc", False)
WC("star_then_escaped_star", "*\\*", "abc*", True)
WC("star_then_escaped_star_no_literal", "*\\*", "abc", False)
WC("two_escaped_stars_not_consecutive", "\\*\\*", "**", True)
WC("star_escaped_star_star", "*\\**", "a*b", True)
WC("star_escaped_star_star_no_literal", "*\\**", "ab", False)
WC("question_mark_literal", "a?c", "a?c", True)
WC("question_mark_not_single_char", "a?c", "abc", False)
WC("dot_literal", "a.c", "abc", False)
WC("regex_chars_literal", "(x)+[y]", "(x)+[y]", True)
WC("multibyte_prefix", "\u00e9*", "\u00e9t\u00e9", True)
WC("multibyte_suffix", "*\u00e9", "caf\u00e9", True)
WC("multibyte_run", "a*c", "a\u00e9c", True)
WC("case_sensitive_star", "A*", "abc", False)
WC("event_array_any", "a*", ["x", "ab"], True)
WC("arn_pattern", "arn:aws:s3:::bucket/*/*.jpg", "arn:aws:s3:::bucket/2024/img.jpg", True)
WC("arn_pattern_wrong_ext", "arn:aws:s3:::bucket/*/*.jpg", "arn:aws:s3:::bucket/2024/img.png", False)
ERR("consecutive_only", {"a": [{"wildcard": "**"}]}, "Consecutive wildcard characters at pos 1")
ERR("consecutive_after_letter", {"a": [{"wildcard": "a**"}]}, "Consecutive wildcard characters at pos 2")
ERR("consecutive_after_single", {"a": [{"wildcard": "a*b**c"}]}, "Consecutive wildcard characters at pos 4")
ERR("consecutive_triple", {"a": [{"wildcard": "abc***"}]}, "Consecutive wildcard characters at pos 4")
ERRP("consecutive_after_escaped_backslash", {"a": [{"wildcard": "\\\\**"}]},
     "Consecutive wildcard characters at pos ")
ERRP("invalid_escape_letter", {"a": [{"wildcard": "a\\b"}]}, "Invalid escape character at pos ")
ERRP("invalid_escape_n", {"a": [{"wildcard": "\\n*"}]}, "Invalid escape character at pos ")
ERRP("invalid_escape_in_anything_but", {"a": [{"anything-but": {"wildcard": "x\\y"}}]},
     "Invalid escape character at pos ")
TOO_COMPLEX = ("Rule is too complex - try using fewer wildcard characters or fewer "
               "repeating character sequences after a wildcard character")
ERR("six_stars", {"a": [{"wildcard": "a*b*c*d*e*f*"}]}, TOO_COMPLEX)
ERR("six_stars_leading", {"a": [{"wildcard": "*a*b*c*d*e*"}]}, TOO_COMPLEX)
ERR("not_string_number", {"a": [{"wildcard": 5}]}, "wildcard match pattern must be a string")
ERR("not_string_null", {"a": [{"wildcard": None}]}, "wildcard match pattern must be a string")
ERR("not_string_true", {"a": [{"wildcard": True}]}, "wildcard match pattern must be a string")
ERR("not_string_object", {"a": [{"wildcard": {"x": "*"}}]}, "wildcard match pattern must be a string")
ERR("operator_name_case_sensitive", {"a": [{"Wildcard": "*"}]}, "Unrecognized match type Wildcard")

# ---------------------------------------------------------------------------
topic("or")

P1 = {"$or": [{"a": ["1"]}, {"b": ["2"]}]}
T("top_first_alternative", P1, {"a": "1"})
T("top_second_alternative", P1, {"b": "2"})
T("top_both_alternatives", P1, {"a": "1", "b": "2"})
F("top_neither_alternative", P1, {"a": "2", "b": "1"})
F("top_empty_event", P1, {})
P2 = {"c": ["x"], "$or": [{"a": ["1"]}, {"b": ["2"]}]}
T("with_field_first", P2, {"c": "x", "a": "1"})
T("with_field_second", P2, {"c": "x", "b": "2"})
F("with_field_missing_field", P2, {"a": "1"})
F("with_field_no_alternative", P2, {"c": "x"})
F("with_field_wrong_field", P2, {"c": "y", "a": "1"})
P3 = {"$or": [{"a": ["1"]}, {"b": ["2"]}], "c": ["x"]}
T("or_before_field_match", P3, {"c": "x", "b": "2"})
F("or_before_field_missing_field", P3, {"b": "2"})
P4 = {"detail": {"$or": [{"a": [1]}, {"b": [2]}]}}
T("nested_second", P4, {"detail": {"b": 2}})
F("nested_not_under_parent", P4, {"b": 2})
F("nested_wrong_value", P4, {"detail": {"a": 2}})
P5 = {"$or": [{"a": [1]}, {"$or": [{"b": [2]}, {"c": [3]}]}]}
T("nested_or_inside_or_inner", P5, {"c": 3})
T("nested_or_inside_or_outer", P5, {"a": 1})
F("nested_or_inside_or_none", P5, {"d": 4})
P6 = {"$or": [{"a": [1]}, {"b": [1]}], "d": {"$or": [{"e": [1]}, {"f": [1]}]}}
T("two_levels_both_satisfied", P6, {"a": 1, "d": {"f": 1}})
F("two_levels_only_top", P6, {"a": 1})
F("two_levels_only_nested", P6, {"d": {"e": 1}})
P7 = {"$or": [{"a": [{"prefix": "x"}]}, {"b": [{"numeric": [">", 5]}]}, {"c": [{"exists": False}]}]}
F("operators_none", P7, {"a": "y", "b": 1, "c": 1})
T("operators_exists_false_alternative", P7, {"a": "y", "b": 1})
T("operators_numeric_alternative", P7, {"b": 6, "c": 1})
T("operators_prefix_alternative", P7, {"a": "xy", "c": 1})
T("alternative_nested_objects", {"$or": [{"x": {"y": [1]}}, {"x": {"z": [2]}}]}, {"x": {"z": 2}})
T("alternative_dot_key", {"$or": [{"x.y": [1]}, {"z": [2]}]}, {"x": {"y": 1}})
P8 = {"$or": [{"a": [1], "b": [1]}, {"c": [1]}]}
F("alternative_with_two_fields_partial", P8, {"a": 1})
T("alternative_with_two_fields_full", P8, {"a": 1, "b": 1})
T("same_field_in_alternatives", {"$or": [{"a": [1]}, {"a": [2]}]}, {"a": 2})
F("same_field_in_alternatives_none", {"$or": [{"a": [1]}, {"a": [2]}]}, {"a": 3})
P9 = {"a": ["1"], "d": {"e": ["2"], "$or": [{"f": ["3"]}, {"g": ["4"]}]}}
T("nested_with_siblings_match", P9, {"a": "1", "d": {"e": "2", "g": "4"}})
F("nested_with_siblings_missing_sibling", P9, {"a": "1", "d": {"g": "4"}})
T("duplicate_or_key_last_wins", '{"$or":[{"a":[1]},{"b":[1]}],"$or":[{"c":[1]},{"d":[1]}]}', {"d": 1})
F("duplicate_or_key_first_discarded", '{"$or":[{"a":[1]},{"b":[1]}],"$or":[{"c":[1]},{"d":[1]}]}', {"a": 1})
T("ordinary_field_strings", {"$or": ["a", "b"]}, {"$or": "a"})
F("ordinary_field_strings_other", {"$or": ["a", "b"]}, {"$or": "c"})
F("ordinary_field_strings_not_fields", {"$or": ["a", "b"]}, {"a": "a"})
T("ordinary_field_numbers", {"$or": [1, 2]}, {"$or": 2})
T("ordinary_field_object_value", {"$or": {"a": [1]}}, {"$or": {"a": 1}})
F("ordinary_field_object_value_not_or", {"$or": {"a": [1]}}, {"a": 1})
T("ordinary_field_operator", {"$or": ["y", {"prefix": "x"}]}, {"$or": "xyz"})
ERR("ordinary_field_object_after_scalar", {"$or": ["a", {"b": [1]}]}, "Unrecognized match type b")
ERR("one_alternative", {"$or": [{"a": [1]}]}, "There must have at least 2 Objects in $or relationship.")
ERR("one_alternative_nested", {"x": {"$or": [{"a": [1]}]}}, "There must have at least 2 Objects in $or relationship.")
ERR("non_object_string", {"$or": [{"a": [1]}, "b"]}, "Only JSON object is allowed in array of $or relationship.")
ERR("non_object_list", {"$or": [{"a": [1]}, [1]]}, "Only JSON object is allowed in array of $or relationship.")
ERR("non_object_null", {"$or": [{"a": [1]}, {"b": [1]}, None]}, "Only JSON object is allowed in array of $or relationship.")
ERR("empty_object_alternative", {"$or": [{"a": [1]}, {}]}, "Empty objects are not allowed")
ERR("empty_array_in_alternative", {"$or": [{"a": []}, {"b": [1]}]}, "Empty arrays are not allowed")
ERR("scalar_in_alternative", {"$or": [{"a": 5}, {"b": [1]}]}, '"a" must be an object or an array')
ERR("bad_operator_in_second_alternative", {"$or": [{"a": [1]}, {"b": [{"prefix": 1}]}]},
    "prefix match pattern must be a string")


def _alts(key, n):
    return [{key: [i]} for i in range(n)]


T("combinations_1000_allowed",
  {"$or": _alts("a", 10), "x": {"$or": _alts("b", 10), "y": {"$or": _alts("c", 10)}}},
  {"a": 9, "x": {"b": 0, "y": {"c": 5}}})
F("combinations_1000_allowed_no_match",
  {"$or": _alts("a", 10), "x": {"$or": _alts("b", 10), "y": {"$or": _alts("c", 10)}}},
  {"a": 9, "x": {"b": 0, "y": {"c": 10}}})
ERR("combinations_1100",
    {"$or": _alts("a", 10), "x": {"$or": _alts("b", 10), "y": {"$or": _alts("c", 11)}}},
    "Rule is too complex - the $or combinations exceed 1000")
T("combinations_40_by_25_allowed", {"$or": _alts("a", 40), "x": {"$or": _alts("b", 25)}}, {"a": 39, "x": {"b": 24}})
ERR("combinations_40_by_26", {"$or": _alts("a", 40), "x": {"$or": _alts("b", 26)}},
    "Rule is too complex - the $or combinations exceed 1000")
ERR("combinations_nested_or_arrays_multiply",
    {"$or": [{"$or": _alts("a", 25)}, {"$or": _alts("b", 25)}]},
    "Rule is too complex - the $or combinations exceed 1000")

# ---------------------------------------------------------------------------
topic("arrays")

T("scalar_in_event_array", {"a": ["x"]}, {"a": ["y", "x"]})
F("scalar_not_in_event_array", {"a": ["x"]}, {"a": ["y", "z"]})
F("scalar_vs_empty_array", {"a": ["x"]}, {"a": []})
T("scalar_in_nested_array", {"a": ["x"]}, {"a": [[["x"]]]})
T("scalar_in_second_inner_array", {"a": ["x"]}, {"a": [["y"], ["x"]]})
T("nested_arrays_offer_first", {"a": [1]}, {"a": [[1, 2], [3]]})
T("nested_arrays_offer_last", {"a": [3]}, {"a": [[1, 2], [3]]})
F("nested_arrays_offer_nothing_else", {"a": [4]}, {"a": [[1, 2], [3]]})
F("null_vs_empty_array", {"a": [None]}, {"a": []})
T("null_in_array", {"a": [None]}, {"a": [None]})
T("null_among_values", {"a": [None]}, {"a": [1, None]})
T("null_in_nested_array", {"a": [None]}, {"a": [[None]]})
T("intersection_nonempty", {"a": ["a", "b"]}, {"a": ["c", "b"]})
F("intersection_empty", {"a": ["a", "b"]}, {"a": ["c", "d"]})
T("mixed_array_scalar", {"a": [1]}, {"a": [1, {"b": 2}]})
T("mixed_array_object_member", {"a": {"b": [2]}}, {"a": [1, {"b": 2}]})
F("mixed_array_object_not_a_value", {"a": [2]}, {"a": [1, {"b": 2}]})
T("mixed_types_string", {"a": ["1"]}, {"a": [1, "1", True, None, {"b": 1}, [2]]})
T("mixed_types_nested_number", {"a": [2]}, {"a": [1, "1", True, None, {"b": 1}, [2]]})
T("mixed_types_true", {"a": [True]}, {"a": [1, "1", True, None, {"b": 1}, [2]]})
T("array_of_objects_second", {"a": {"b": ["x"]}}, {"a": [{"b": "y"}, {"b": "x"}]})
F("array_of_objects_other_key", {"a": {"b": ["x"]}}, {"a": [{"c": "x"}]})
T("array_of_arrays_of_objects", {"a": {"b": ["x"]}}, {"a": [[{"b": "x"}]]})
F("value_vs_array_of_objects", {"a": ["x"]}, {"a": [{"b": "x"}]})
T("numeric_on_array", {"a": [{"numeric": [">", 2]}]}, {"a": [1, 2, 3]})
F("numeric_on_array_none", {"a": [{"numeric": [">", 3]}]}, {"a": [1, 2, 3]})
T("array_index_not_a_key_exists_false", {"a": {"0": [{"exists": False}]}}, {"a": ["x"]})
F("array_index_not_a_key", {"a": {"0": ["x"]}}, {"a": ["x"]})
EMP = {"e": [{"first": "Anna", "last": "Smith"}, {"first": "John", "last": "Jones"}]}
F("consistent_two_fields_different_elements", {"e": {"first": ["Anna"], "last": ["Jones"]}}, EMP)
T("consistent_two_fields_first_element", {"e": {"first": ["Anna"], "last": ["Smith"]}}, EMP)
T("consistent_two_fields_second_element", {"e": {"first": ["John"], "last": ["Jones"]}}, EMP)
T("consistent_needs_second_choice", {"e": {"first": ["Anna", "John"], "last": ["Jones"]}}, EMP)
T("consistent_with_operators", {"e": {"first": [{"prefix": "J"}], "last": [{"suffix": "s"}]}}, EMP)
F("consistent_with_operators_crossed", {"e": {"first": [{"prefix": "A"}], "last": [{"suffix": "s"}]}}, EMP)
F("consistent_dot_joined_pattern", {"e.first": ["Anna"], "e.last": ["Jones"]}, EMP)
T("consistent_field_outside_array", {"id": ["x"], "e": {"first": ["Anna"], "last": ["Smith"]}}, dict(EMP, id="x"))
T("consistent_or_alternatives_each_one_field",
  {"e": {"$or": [{"first": ["Anna"]}, {"last": ["Jones"]}]}}, EMP)
F("consistent_or_alternative_two_fields",
  {"$or": [{"e": {"first": ["Anna"], "last": ["Jones"]}}, {"id": ["x"]}]}, EMP)
T("consistent_or_other_alternative",
  {"$or": [{"e": {"first": ["Anna"], "last": ["Jones"]}}, {"id": ["x"]}]}, dict(EMP, id="x"))
TRI = {"e": [{"a": 1, "b": 2, "c": 3}, {"a": 4, "b": 5, "c": 6}]}
T("consistent_three_fields_same_element", {"e": {"a": [1], "b": [2], "c": [3]}}, TRI)
F("consistent_three_fields_last_differs", {"e": {"a": [1], "b": [2], "c": [6]}}, TRI)
T("consistent_three_fields_search", {"e": {"a": [1, 4], "b": [5], "c": [6]}}, TRI)
F("consistent_three_fields_no_assignment", {"e": {"a": [1], "b": [2, 5], "c": [6]}}, TRI)
T("different_arrays_independent",
  {"p": {"v": [2]}, "q": {"w": [3]}}, {"p": [{"v": 1}, {"v": 2}], "q": [{"w": 3}, {"w": 4}]})
ORD = {"o": [{"id": "A", "items": [{"sku": "s1", "qty": 1}, {"sku": "s2", "qty": 2}]},
             {"id": "B", "items": [{"sku": "s3", "qty": 3}]}]}
T("nested_outer_and_inner_same_branch", {"o": {"id": ["A"], "items": {"sku": ["s2"]}}}, ORD)
F("nested_outer_and_inner_other_branch", {"o": {"id": ["A"], "items": {"sku": ["s3"]}}}, ORD)
F("nested_inner_fields_different_elements", {"o": {"items": {"sku": ["s1"], "qty": [2]}}}, ORD)
T("nested_inner_fields_same_element", {"o": {"items": {"sku": ["s2"], "qty": [2]}}}, ORD)
T("nested_three_fields", {"o": {"id": ["B"], "items": {"sku": ["s3"], "qty": [3]}}}, ORD)
F("nested_numeric_other_branch", {"o": {"id": ["B"], "items": {"qty": [{"numeric": ["<", 3]}]}}}, ORD)
SC = {"a": [{"b": [1, 2], "c": 3}, {"b": [4], "c": 5}]}
T("scalar_array_inside_element", {"a": {"b": [2], "c": [3]}}, SC)
F("scalar_array_inside_other_element", {"a": {"b": [4], "c": [3]}}, SC)
T("scalar_array_inside_second_element", {"a": {"b": [4], "c": [5]}}, SC)
F("consistent_exists_true_different_elements",
  {"e": {"first": ["Anna"], "mid": [{"exists": True}]}}, {"e": [{"first": "Anna"}, {"mid": "X"}]})
T("consistent_exists_true_same_element",
  {"e": {"first": ["Anna"], "mid": [{"exists": True}]}}, {"e": [{"first": "Anna", "mid": "X"}]})
F("exists_false_field_present_in_other_element",
  {"e": {"first": ["Anna"], "last": [{"exists": False}]}}, {"e": [{"first": "Anna"}, {"first": "John", "last": "Jones"}]})
T("exists_false_field_absent_in_all_elements",
  {"e": {"first": ["Anna"], "last": [{"exists": False}]}}, {"e": [{"first": "Anna"}, {"first": "John"}]})
T("consistent_requires_backtracking", {"e": {"a": [1], "b": [1, 2], "c": [3]}},
  {"e": [{"a": 1, "b": 1}, {"a": 1, "b": 2, "c": 3}]})
F("consistent_no_element_has_all_three", {"e": {"a": [1], "b": [1], "c": [3]}},
  {"e": [{"a": 1, "b": 1}, {"a": 1, "b": 2, "c": 3}]})
AB2 = {"e": [{"x": "a", "y": 1}, {"x": "b", "y": 2}]}
F("consistent_anything_but_other_element", {"e": {"x": [{"anything-but": "a"}], "y": [1]}}, AB2)
T("consistent_anything_but_same_element", {"e": {"x": [{"anything-but": "a"}], "y": [2]}}, AB2)

# ---------------------------------------------------------------------------
topic("nesting_dots")

PATS = {
    "nested": {"a": {"b": {"c": [1]}}},
    "inner_dot": {"a": {"b.c": [1]}},
    "outer_dot": {"a.b": {"c": [1]}},
    "flat_dot": {"a.b.c": [1]},
}
EVS = {
    "nested": {"a": {"b": {"c": 1}}},
    "inner_dot": {"a": {"b.c": 1}},
    "flat_dot": {"a.b.c": 1},
    "outer_dot": {"a.b": {"c": 1}},
}
for pn, p in PATS.items():
    for en, e in EVS.items():
        T("pattern_%s_event_%s" % (pn, en), p, e)
F("nested_wrong_value", {"a": {"b": {"c": [1]}}}, {"a": {"b": {"c": 2}}})
F("outer_dot_other_leaf", {"a.b": {"c": [1]}}, {"a": {"b": {"d": 1}}})
F("flat_dot_shorter_path", {"a.b.c": [1]}, {"a": {"b": 1}})
F("flat_dot_longer_path", {"a.b": [1]}, {"a": {"b": {"c": 1}}})
T("event_dot_key_and_object_first", {"a": {"b": [1]}}, {"a.b": 1, "a": {"b": 2}})
T("event_dot_key_and_object_second", {"a": {"b": [2]}}, {"a.b": 1, "a": {"b": 2}})
F("event_dot_key_and_object_neither", {"a": {"b": [3]}}, {"a.b": 1, "a": {"b": 2}})
T("escaped_dot_in_pattern_key", r'{"a\u002eb":[1]}', {"a": {"b": 1}})
T("escaped_dot_in_event_key", {"a": {"b": [1]}}, r'{"a\u002eb":1}')
T("dot_key_through_array", {"a.b": [1]}, {"a": [{"b": 1}]})
T("long_key", {"k" * 1000: ["x"]}, {"k" * 1000: "x"})
F("long_key_one_shorter", {"k" * 1000: ["x"]}, {"k" * 999: "x"})


def deep_obj(depth, leaf):
    v = leaf
    for _ in range(depth):
        v = {"n": v}
    return v


T("deep_pattern_40_levels", deep_obj(39, {"n": ["x"]}), deep_obj(40, "x"))
F("deep_pattern_40_levels_event_shallower", deep_obj(39, {"n": ["x"]}), deep_obj(39, "x"))
T("deep_pattern_dot_joined_vs_nested_event", {".".join(["n"] * 40): ["x"]}, deep_obj(40, "x"))
T("deep_event_nested_vs_dot_joined", deep_obj(39, {"n": ["x"]}), {".".join(["n"] * 40): "x"})
T("deep_nesting_with_arrays_in_between",
  {"a": {"b": {"c": {"d": ["x"]}}}}, {"a": [{"b": [[{"c": {"d": ["y", "x"]}}]]}]})
T("duplicate_key_last_wins", '{"a":["x"],"a":["y"]}', {"a": "y"})
F("duplicate_key_first_discarded", '{"a":["x"],"a":["y"]}', {"a": "x"})
T("duplicate_key_other_field_between", '{"a":["x"],"b":["z"],"a":["y"]}', {"a": "y", "b": "z"})
T("duplicate_key_nested", '{"d":{"a":["x"],"a":["y"]}}', {"d": {"a": "y"}})
T("duplicate_key_array_replaces_object", '{"a":{"b":["x"]},"a":["y"]}', {"a": "y"})
F("duplicate_key_object_discarded", '{"a":{"b":["x"]},"a":["y"]}', {"a": {"b": "x"}})
T("duplicate_key_object_replaces_array", '{"a":["y"],"a":{"b":["x"]}}', {"a": {"b": "x"}})
ERR("duplicate_key_error_at_first_position_empty_object", '{"a":["x"],"b":[],"a":{}}',
    "Empty objects are not allowed")
ERR("duplicate_key_error_at_first_position_empty_array", '{"a":["x"],"b":[{"prefix":1}],"a":[]}',
    "Empty arrays are not allowed")

# ---------------------------------------------------------------------------
topic("errors_shape")

for nm, txt in (("array", "[]"), ("array_of_objects", '[{"a":[1]}]'), ("string", '"a"'),
                ("number", "42"), ("null", "null"), ("true", "true"), ("false", "false")):
    ERR("filter_not_object_" + nm, txt, "Filter is not an object")
ERR("leaf_string", {"a": "x"}, '"a" must be an object or an array')
ERR("leaf_number", {"a": 1}, '"a" must be an object or an array')
ERR("leaf_true", {"a": True}, '"a" must be an object or an array')
ERR("leaf_false", {"a": False}, '"a" must be an object or an array')
ERR("leaf_null", {"a": None}, '"a" must be an object or an array')
ERR("leaf_key_with_space", {"my key": 1}, '"my key" must be an object or an array')
ERR("leaf_key_non_ascii", {"cl\u00e9": 1}, '"cl\u00e9" must be an object or an array')
ERRP("leaf_nested_scalar", {"a": {"b": 1}})
ERR("empty_array_top", {"a": []}, "Empty arrays are not allowed")
ERR("empty_array_nested", {"a": {"b": []}}, "Empty arrays are not allowed")
ERR("empty_array_after_valid", {"a": ["x"], "b": []}, "Empty arrays are not allowed")
ERR("empty_object_pattern", "{}", "Empty objects are not allowed")
ERR("empty_object_pattern_with_whitespace", " { \n } ", "Empty objects are not allowed")
ERR("empty_object_nested", {"a": {}}, "Empty objects are not allowed")
ERR("empty_object_deeper", {"a": {"b": {}}}, "Empty objects are not allowed")
ERR("empty_object_in_leaf", {"a": [{}]}, "Empty objects are not allowed")
ERR("two_keys_prefix_suffix", {"a": [{"prefix": "x", "suffix": "y"}]}, "Only one key allowed in match expression")
ERR("two_keys_exists_prefix", {"a": [{"exists": True, "prefix": "x"}]}, "Only one key allowed in match expression")
ERR("two_keys_numeric_anything_but", {"a": [{"numeric": [">", 1], "anything-but": 2}]},
    "Only one key allowed in match expression")
ERR("unknown_operator", {"a": [{"foo": "x"}]}, "Unrecognized match type foo")
ERR("unknown_operator_equals", {"a": [{"equals": "x"}]}, "Unrecognized match type equals")
ERR("unknown_operator_underscore", {"a": [{"anything_but": "x"}]}, "Unrecognized match type anything_but")
ERR("miscased_prefix", {"a": [{"Prefix": "x"}]}, "Unrecognized match type Prefix")
ERR("miscased_suffix", {"a": [{"SUFFIX": "x"}]}, "Unrecognized match type SUFFIX")
ERR("nested_array_value", {"a": [["x"]]}, "Match value must be String, number, true, false, or null")
ERR("nested_array_after_values", {"a": ["x", 1, [1]]}, "Match value must be String, number, true, false, or null")
ERR("nested_empty_array_value", {"a": [[]]}, "Match value must be String, number, true, false, or null")
ERR("order_empty_array_before_empty_object", {"a": [], "b": {}}, "Empty arrays are not allowed")
ERR("order_empty_object_before_empty_array", {"a": {}, "b": []}, "Empty objects are not allowed")
ERR("order_depth_first", {"a": {"b": {"c": []}}, "d": {}}, "Empty arrays are not allowed")
ERR("order_within_leaf", {"a": ["x", {"EXISTS": True}, {"prefix": 1}]}, "Unrecognized match type EXISTS")
ERR("order_leaf_before_sibling", {"a": [{"prefix": 1}], "b": []}, "prefix match pattern must be a string")
ERR("order_document_not_alphabetical", {"z": [], "a": [{"prefix": 1}]}, "Empty arrays are not allowed")
ERR("order_scalar_leaf_first", {"b": 5, "a": []}, '"b" must be an object or an array')
ERR("order_number_first", '{"a":[1e400],"b":[]}', "Cannot compare number 1e400")
T("whitespace_and_newlines", '\n\t{ "a" :\n [ "x" ,\r\n "y" ] }\n', {"a": "y"})
ERR("whitespace_around_non_object", "  [ 1 ]  ", "Filter is not an object")


def sized_pattern(nchars, ch="x"):
    head, tail = '{"a":["', '"]}'
    return head + ch * (nchars - len(head) - len(tail)) + tail


P4096 = sized_pattern(4096)
T("length_4096_chars_allowed", P4096, {"a": "x" * (4096 - 10)})
ERR("length_4097_chars_too_long", sized_pattern(4097), "Event pattern is too long")
T("length_4096_multibyte_chars_allowed", sized_pattern(4096, "\u00e9"), {"a": "\u00e9" * (4096 - 10)})
ERR("length_4097_multibyte_chars_too_long", sized_pattern(4097, "\u00e9"), "Event pattern is too long")
ERR("length_whitespace_counts", '{"a":["x"]' + " " * 4090 + "}", "Event pattern is too long")

# ---------------------------------------------------------------------------
topic("errors_json")

ERR("bare_word_top_level", "hello world",
    "Unrecognized token 'hello': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
ERR("bare_word_value", '{"a": [yes]}',
    "Unrecognized token 'yes': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
ERR("single_quoted_field_name", "{'a': ['x']}",
    "Unexpected character (''' (code 39)): was expecting double-quote to start field name")
for nm, txt in (
        ("empty_text", ""),
        ("whitespace_only", "   \n"),
        ("open_brace_only", "{"),
        ("close_brace_only", "}"),
        ("open_bracket_only", "["),
        ("unclosed_object", '{"a": [1]'),
        ("unclosed_array", '{"a": [1}'),
        ("trailing_comma_object", '{"a": [1],}'),
        ("trailing_comma_array", '{"a": [1,]}'),
        ("missing_colon", '{"a" [1]}'),
        ("missing_comma", '{"a": [1] "b": [2]}'),
        ("missing_comma_in_array", '{"a": [1 2]}'),
        ("comma_only", "{,}"),
        ("missing_value", '{"a":}'),
        ("unquoted_field_name", "{a: [1]}"),
        ("single_quoted_value", "{\"a\": ['x']}"),
        ("unterminated_string", '{"a": ["x]}'),
        ("bad_escape", '{"a": ["\\x"]}'),
        ("short_unicode_escape", '{"a": ["\\u12"]}'),
        ("raw_newline_in_string", '{"a": ["x\ny"]}'),
        ("leading_zero", '{"a": [01]}'),
        ("trailing_dot", '{"a": [1.]}'),
        ("leading_dot", '{"a": [.5]}'),
        ("leading_plus", '{"a": [+1]}'),
        ("minus_only", '{"a": [-]}'),
        ("exponent_without_digits", '{"a": [1e]}'),
        ("nan_literal", '{"a": [NaN]}'),
        ("infinity_literal", '{"a": [Infinity]}'),
        ("truncated_true", '{"a": [tru]}'),
        ("truncated_null", '{"a": [nul]}'),
        ("numeric_key", "{1: [1]}"),
):
    ERRP(nm, txt)

# ---------------------------------------------------------------------------
topic("events_invalid")

for nm, txt in (
        ("empty_text", ""),
        ("whitespace_only", "  \n "),
        ("open_brace_only", "{"),
        ("close_brace_only", "}"),
        ("unclosed_object", '{"a":1'),
        ("unclosed_array", '{"a":[1}'),
        ("missing_value", '{"a":}'),
        ("trailing_comma_object", '{"a":1,}'),
        ("trailing_comma_array", '{"a":[1,]}'),
        ("missing_colon", '{"a" 1}'),
        ("missing_comma", '{"a":1 "b":2}'),
        ("comma_only", "{,}"),
        ("unquoted_key", "{a:1}"),
        ("single_quotes", "{'a':1}"),
        ("trailing_garbage", '{"a":1} x'),
        ("two_objects", '{"a":1}{}'),
        ("extra_close_brace", '{"a":1}}'),
        ("leading_zero", '{"a":01}'),
        ("trailing_dot", '{"a":1.}'),
        ("leading_dot", '{"a":.5}'),
        ("leading_plus", '{"a":+1}'),
        ("minus_only", '{"a":-}'),
        ("exponent_without_digits", '{"a":1e}'),
        ("nan_literal", '{"a":NaN}'),
        ("infinity_literal", '{"a":Infinity}'),
        ("bad_escape", '{"a":"\\x"}'),
        ("short_unicode_escape", '{"a":"\\u12"}'),
        ("unterminated_string", '{"a":"abc}'),
        ("raw_newline_in_string", '{"a":"x\ny"}'),
        ("raw_tab_in_string", '{"a":"x\ty"}'),
        ("truncated_true", '{"a":tru}'),
        ("truncated_null", '{"a":nul}'),
        ("not_object_array", "[1,2]"),
        ("not_object_empty_array", "[]"),
        ("not_object_string", '"str"'),
        ("not_object_number", "42"),
        ("not_object_null", "null"),
        ("not_object_true", "true"),
):
    BADEVENT(nm, txt)
T("whitespace_around_event", {"a": [1]}, '  \n{"a":1}\t ')
DEEP_KEY = ".".join(["a"] * 1000)
T("depth_1000_objects_allowed", {DEEP_KEY: [1]}, '{"a":' * 999 + '{"a":1' + "}" * 1000)
BADEVENT("depth_1001_objects", '{"a":' * 1000 + '{"a":1' + "}" * 1001)
T("depth_1000_with_arrays_allowed", {"a": [1]}, '{"a":' + "[" * 999 + "1" + "]" * 999 + "}")
BADEVENT("depth_1001_with_arrays", '{"a":' + "[" * 1000 + "1" + "]" * 1000 + "}")
BADEVENT("depth_1001_empty_arrays", '{"a":' + "[" * 1000 + "]" * 1000 + "}")
MIB = 1 << 20
_head, _tail = '{"a":"', '"}'
T("size_exactly_1_mib_allowed", {"a": [{"prefix": "xxxx"}]}, _head + "x" * (MIB - 8) + _tail)
BADEVENT("size_1_mib_plus_1", _head + "x" * (MIB - 7) + _tail, pattern={"a": [{"prefix": "xxxx"}]})

# ---------------------------------------------------------------------------
topic("envelope")

ENV = {"id": "1", "source": "s", "detail-type": "t", "account": "123456789012",
       "region": "us-east-1", "time": "2022-07-13T13:48:01Z"}
T("all_fields_present", {"source": ["s"]}, ENV, envelope=True)
F("all_fields_present_no_match", {"source": ["other"]}, ENV, envelope=True)
T("extra_fields_allowed", {"detail": {"x": [1]}}, dict(ENV, detail={"x": 1}, version="0"), envelope=True)
for f in ENV:
    ev = {k: v for k, v in ENV.items() if k != f}
    _add("missing_" + f.replace("-", "_"), {"source": [{"exists": True}]}, ev, envelope=True,
         error="Parameter Event is not valid.", error_code="ValidationException")
_add("fields_only_nested", {"source": [{"exists": True}]}, {"detail": ENV}, envelope=True,
     error="Parameter Event is not valid.", error_code="ValidationException")
_add("not_an_object", {"source": [{"exists": True}]}, [ENV], envelope=True,
     error="Parameter Event is not valid.", error_code="ValidationException")


# ---------------------------------------------------------------------------

def main():
    names = {}
    total = 0
    for topic_name, cases in FILES.items():
        seen = set()
        for c in cases:
            if c["name"] in seen:
                raise SystemExit("duplicate name %s in %s" % (c["name"], topic_name))
            seen.add(c["name"])
        path = os.path.join(HERE, topic_name + ".jsonl")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for c in cases:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        names[topic_name] = len(cases)
        total += len(cases)
    for k, v in names.items():
        print("%-22s %4d" % (k + ".jsonl", v))
    print("%-22s %4d" % ("total", total))


if __name__ == "__main__":
    sys.exit(main())
