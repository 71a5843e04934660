# Widget suites (included by tests/gui/CMakeLists.txt): plots on the offscreen platform.
dt_add_test(tst_widgets SOURCES tst_widgets.cpp LIBS dt_widgets Qt6::Widgets)
