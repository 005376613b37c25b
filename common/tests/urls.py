from common.tests.settings import TEST_SERVICE
from common.urls import service_urlpatterns

urlpatterns = service_urlpatterns(TEST_SERVICE, "common.tests.app.urls")
