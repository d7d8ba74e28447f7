"""The door pages' forms: an access area, an access point, a scanner device and where it stands, the scan log's
filters. Each takes the event, so a choice can only be one of that event's rows. And the customer's public
"Find my tickets" form."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils import timezone

from organiser_portal.models import Event

from .models import AccessArea, AccessPoint, Scan
from .selectors import ScanFilters

_NAME = {"class": "form-control form-control-sm", "maxlength": 120, "autocomplete": "off"}


class _PointChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: AccessPoint) -> str:
        return f"{obj.area.name} · {obj.name}"


def _points(event: Event):
    return AccessPoint.objects.filter(area__event=event).select_related("area").order_by("area__name", "name")


class AreaForm(forms.Form):
    name = forms.CharField(max_length=120, widget=forms.TextInput(attrs=_NAME))
    all_ticket_types = forms.TypedChoiceField(
        label="Admits",
        choices=[("1", "Every ticket type"), ("", "Only the ticket types chosen")],
        coerce=bool,
        empty_value=False,  # type: ignore[arg-type]  # "" (only the chosen) is False, not ""
        required=False,
        initial="1",
        widget=forms.RadioSelect,
    )
    ticket_types: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Ticket types"
    )

    def __init__(self, *args, event: Event, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ticket_types"].queryset = event.ticket_types.order_by("name")  # type: ignore[attr-defined]


def area_form_for(event: Event, area: AccessArea) -> AreaForm:
    """The form that changes `area`, filled in with what it is now (its own element ids: one per area)."""
    initial = {
        "name": area.name,
        "all_ticket_types": "1" if area.all_ticket_types else "",
        "ticket_types": [t.pk for t in area.ticket_types.all()],
    }
    return AreaForm(event=event, initial=initial, auto_id=f"area{area.pk}_%s")


class PointForm(forms.Form):
    name = forms.CharField(max_length=120, label="Access point", widget=forms.TextInput(attrs=_NAME))


class DeviceForm(forms.Form):
    name = forms.CharField(max_length=120, label="Device name", widget=forms.TextInput(attrs=_NAME))
    access_point = _PointChoice(
        queryset=None,
        required=False,
        empty_label="No access point",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args, event: Event, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["access_point"].queryset = _points(event)  # type: ignore[attr-defined]


class PlaceForm(forms.Form):
    access_point = _PointChoice(
        queryset=None,
        required=False,
        empty_label="No access point",
        # Wide enough to read "Main entrance · Gate 1" on a phone, where the table scrolls instead.
        widget=forms.Select(attrs={"class": "form-select form-select-sm w-auto", "style": "min-width: 12rem"}),
    )

    def __init__(self, *args, event: Event, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["access_point"].queryset = _points(event)  # type: ignore[attr-defined]


_LOCAL = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
_SELECT = {"class": "form-select form-select-sm"}


class ScanLogForm(forms.Form):
    """The scan log's filters; times are the event's local time. Invalid filters are shown and not applied."""

    area: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Every area", widget=forms.Select(_SELECT)
    )
    point = _PointChoice(queryset=None, required=False, empty_label="Every point", widget=forms.Select(_SELECT))
    result = forms.ChoiceField(
        choices=[("", "Any result"), *Scan.Result.choices], required=False, widget=forms.Select(_SELECT)
    )
    since = forms.DateTimeField(
        required=False,
        label="From",
        input_formats=_LOCAL,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control form-control-sm"}),
    )
    until = forms.DateTimeField(
        required=False,
        label="Until",
        input_formats=_LOCAL,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control form-control-sm"}),
    )

    def __init__(self, *args, event: Event, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.event = event
        self.fields["area"].queryset = AccessArea.objects.filter(event=event).order_by("name")  # type: ignore[attr-defined]
        self.fields["point"].queryset = _points(event)  # type: ignore[attr-defined]

    def _local(self, value: datetime | None) -> datetime | None:
        """A time typed in the event's time zone (the form read it in the server's)."""
        if value is None:
            return None
        if not 2000 <= value.year <= 2100:  # converting year 1 to UTC overflows; nothing was scanned then
            raise forms.ValidationError("Choose a time between the years 2000 and 2100.")
        return timezone.make_aware(value.replace(tzinfo=None), self.event.tzinfo)

    def clean_since(self) -> datetime | None:
        return self._local(self.cleaned_data.get("since"))

    def clean_until(self) -> datetime | None:
        return self._local(self.cleaned_data.get("until"))

    def filters(self) -> ScanFilters:
        """The valid filters (an invalid one is left out, and the form shows why)."""
        if not self.is_bound:
            return ScanFilters()
        self.is_valid()
        data = {name: value for name, value in getattr(self, "cleaned_data", {}).items() if name not in self.errors}
        return ScanFilters(**{k: v for k, v in data.items() if v not in (None, "")})


class FindTicketsForm(forms.Form):
    """ "Find my tickets": the address the customer bought with."""

    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        error_messages={"required": "Enter your email address.", "invalid": "Enter a valid email address."},
        widget=forms.EmailInput(attrs={"class": "form-control form-control-lg", "autocomplete": "email"}),
    )
