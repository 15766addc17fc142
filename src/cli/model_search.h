/* Where `cltrain bench NAME` and `cltrain tune NAME` find a model given by bare name. */
#ifndef CLT_CLI_MODEL_SEARCH_H
#define CLT_CLI_MODEL_SEARCH_H

#include <stddef.h>

/* model as given when it names a readable file or holds a '/'; else the first readable of
 * NAME.cfg and models/NAME.cfg in the current folder, then ../share/cltrain/models/NAME.cfg
 * and models/NAME.cfg beside the cltrain binary (an installed copy; the build folder links
 * models/ to the source tree's); else model as given (opening it then says it is missing).
 * ".cfg" is added to a NAME without it. */
void clt_cli_model_path(const char *model, char *buf, size_t size);

#endif
