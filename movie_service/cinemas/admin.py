from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from common.api.exceptions import Conflict

from . import services
from .layouts import SeatCategory, generate_layout
from .models import Cinema, Screen
from .widgets import SeatLayoutWidget


class ScreenInlineForm(forms.ModelForm):
    """Inline on the cinema: a name, and for a new screen a rectangular layout to start from."""

    rows = forms.IntegerField(min_value=1, max_value=30, required=False, help_text="New screens only.")
    seats_per_row = forms.IntegerField(min_value=1, max_value=40, required=False)
    category = forms.ChoiceField(choices=SeatCategory.CHOICES, initial=SeatCategory.STANDARD, required=False)

    class Meta:
        model = Screen
        fields = ["name"]

    def clean(self):
        cleaned = super().clean()
        if self.instance._state.adding and cleaned.get("name"):
            if not cleaned.get("rows") or not cleaned.get("seats_per_row"):
                raise forms.ValidationError("A new screen needs rows and seats per row (edit the grid afterwards).")
            try:
                cleaned["layout"] = generate_layout(
                    rows=cleaned["rows"],
                    seats_per_row=cleaned["seats_per_row"],
                    category=cleaned.get("category") or SeatCategory.STANDARD,
                )
            except forms.ValidationError as error:
                raise forms.ValidationError(error.messages) from None
            self.instance.layout = cleaned["layout"]
        return cleaned


class ScreenInline(admin.TabularInline):
    model = Screen
    form = ScreenInlineForm
    extra = 0
    fields = ["name", "capacity", "edit_layout", "rows", "seats_per_row", "category"]
    readonly_fields = ["capacity", "edit_layout"]
    show_change_link = True

    @admin.display(description="Layout")
    def edit_layout(self, screen: Screen) -> str:
        if screen._state.adding:
            return "-"
        url = reverse("admin:cinemas_screen_change", args=[screen.pk])
        return format_html('<a href="{}">Edit the seat grid</a>', url)


@admin.register(Cinema)
class CinemaAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "timezone", "screen_count"]
    list_filter = ["city", "timezone"]
    search_fields = ["name", "city"]
    readonly_fields = ["id", "created_at", "updated_at"]
    inlines = [ScreenInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("screens")

    @admin.display(description="Screens")
    def screen_count(self, cinema: Cinema) -> int:
        return len(cinema.screens.all())

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ("name", "city", "address", "timezone")}
        if change:
            saved = services.cinema_update(
                cinema=obj, data={name: value for name, value in data.items() if name in form.changed_data}
            )
        else:
            saved = services.cinema_create(**data)
        obj.__dict__.update(saved.__dict__)  # the admin logs and redirects with obj

    def save_formset(self, request, form, formset, change):
        """Screens through the services too; the lists the admin's change message reads are filled in."""
        cinema = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or inline_form in formset.deleted_forms:
                continue
            screen = inline_form.instance
            if screen._state.adding:
                screen = services.screen_create(
                    cinema=cinema, name=inline_form.cleaned_data["name"], layout=inline_form.cleaned_data["layout"]
                )
                formset.new_objects.append(screen)
            elif "name" in inline_form.changed_data:
                screen = services.screen_update(screen=screen, data={"name": inline_form.cleaned_data["name"]})
                formset.changed_objects.append((screen, ["name"]))
        for inline_form in formset.deleted_forms:
            if not inline_form.instance._state.adding:
                try:
                    services.screen_delete(screen=inline_form.instance)
                except Conflict as error:
                    self.message_user(request, f"{inline_form.instance}: {error.detail}", messages.ERROR)
                else:
                    formset.deleted_objects.append(inline_form.instance)

    def delete_model(self, request, obj):
        try:
            services.cinema_delete(cinema=obj)
        except Conflict as error:
            self.message_user(request, str(error.detail), messages.ERROR)

    def delete_queryset(self, request, queryset):
        for cinema in queryset:
            self.delete_model(request, cinema)


class ScreenForm(forms.ModelForm):
    class Meta:
        model = Screen
        fields = ["cinema", "name", "layout"]
        widgets = {"layout": SeatLayoutWidget}

    def clean(self):
        cleaned = super().clean()
        if not self.instance._state.adding and "layout" in self.changed_data and not self.errors:
            from movie_service.showtimes.selectors import categories_without_price

            missing = categories_without_price(screen=self.instance, layout=cleaned["layout"])
            if missing:
                self.add_error(
                    "layout", f"Upcoming showtimes have no price for: {', '.join(missing)}; change them first."
                )
        return cleaned


@admin.register(Screen)
class ScreenAdmin(admin.ModelAdmin):
    """The seat-layout editor: a grid of seats, a category per seat, gaps as empty cells."""

    form = ScreenForm
    list_display = ["name", "cinema", "capacity"]
    list_filter = ["cinema"]
    list_select_related = ["cinema"]
    search_fields = ["name", "cinema__name"]
    readonly_fields = ["id", "capacity"]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("layout", generate_layout(rows=8, seats_per_row=12))
        return initial

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ("cinema", "name", "layout")}
        if change:
            saved = services.screen_update(
                screen=obj, data={name: value for name, value in data.items() if name in form.changed_data}
            )
        else:
            saved = services.screen_create(**data)
        obj.__dict__.update(saved.__dict__)  # the admin logs and redirects with obj

    def delete_model(self, request, obj):
        try:
            services.screen_delete(screen=obj)
        except Conflict as error:
            self.message_user(request, str(error.detail), messages.ERROR)

    def delete_queryset(self, request, queryset):
        for screen in queryset:
            self.delete_model(request, screen)
