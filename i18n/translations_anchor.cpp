// dt_translations holds only the compiled .qm resources; a static library needs one source.
namespace deeptune_i18n {
int anchor = 0;
}
