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
