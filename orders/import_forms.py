"""The forms of an order import (orders.imports): the file, then the start."""

from django import forms
from django.conf import settings


class ImportUploadForm(forms.Form):
    """The order file of an import (orders.imports); its size is checked against IMPORT_MAX_BYTES here."""

    file = forms.FileField(
        label="Order file (CSV or Excel .xlsx)",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_000_000:.1f} MB; at most {limit // 1_000_000} MB: split it into smaller files."
            )
        return upload


class ImportStartForm(forms.Form):
    send_tickets = forms.BooleanField(
        label="Email the tickets to the buyers now", required=False, help_text="Off: the orders are held for review."
    )
