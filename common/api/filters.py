from rest_framework import filters
from rest_framework.exceptions import ValidationError


class SearchFilter(filters.SearchFilter):
    """DRF's ``?search=``, whose validation errors name the parameter like every other 400 here.

    DRF validates the term (a NUL character is refused before PostgreSQL would) but answers with a
    bare list, ``["Null characters are not allowed."]``, that names no field.
    """

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except ValidationError as error:
            raise ValidationError({self.search_param: error.detail}) from error


class OrderingFilter(filters.OrderingFilter):
    """DRF's ``?ordering=``, with the primary key as the last key of the order.

    Ordered by a column many rows share (``status``, ``city``), PostgreSQL may return the rows of
    one value in any order, query by query, so pages repeat some rows and skip others.
    """

    UNIQUE_KEYS = frozenset({"pk", "-pk", "id", "-id"})

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if ordering and not self.UNIQUE_KEYS & set(ordering):
            return [*ordering, "pk"]
        return ordering
