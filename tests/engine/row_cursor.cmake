# Row cursor suite (dataset preview): included from tests/engine/CMakeLists.txt.
dt_add_test(tst_row_cursor SOURCES tst_row_cursor.cpp LIBS dt_data)
