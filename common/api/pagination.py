from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=``, capped so one request cannot ask for the whole table."""

    page_size_query_param = "page_size"
    max_page_size = 100
