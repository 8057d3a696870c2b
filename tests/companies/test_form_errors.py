"""How a service's error keys land on a portal form (companies.views.form_errors)."""

from __future__ import annotations

from django import forms

from companies.views import form_errors


class _Form(forms.Form):
    name = forms.CharField()
    products = forms.CharField()
    product_ids = forms.CharField(widget=forms.Textarea)
    terms = forms.CharField()


def test_a_field_the_form_has_takes_its_own_errors():
    assert form_errors({"name": ["is required"]}, _Form()) == {"name": ["is required"]}


def test_renamed_service_names_and_paths_land_on_their_fields():
    shown = form_errors(
        {"product_id": ["is unknown"], "criteria.geography": ["is not a region"]},
        _Form(),
        rename={"product_id": "products", "criteria.geography": "name"},
    )
    assert shown == {"products": ["is unknown"], "name": ["is not a region"]}


def test_an_item_of_a_list_is_numbered_from_one():
    shown = form_errors(
        {"footprint_ids[2]": ["is not yours"], "product_ids[0]": ["is not a UUID"]},
        _Form(),
        rename={"footprint_ids": "products"},
        lines=("product_ids",),
    )
    assert shown == {"products": ["item 3: is not yours"], "product_ids": ["line 1: is not a UUID"]}


def test_a_dotted_path_goes_to_its_first_part_named_in_full():
    shown = form_errors({"terms.materiality": ["must be between 0 and 100"]}, _Form())
    assert shown == {"terms": ["terms.materiality: must be between 0 and 100"]}


def test_what_no_field_takes_is_shown_above_the_form_named_in_full():
    errors = {"version": ["must be newer"], "criteria.status[1]": ["is unknown"]}
    expected = {None: ["version: must be newer", "criteria.status[1]: is unknown"]}
    assert form_errors(errors, _Form()) == expected
    assert form_errors(errors, None) == expected
