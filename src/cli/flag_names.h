/* The library's messages name settings ("use a batch of 64 or smaller", "lower the learning
 * rate"); the command line says which flag sets them. This rewrites a library message into
 * the CLI's words ("use --batch 64 or smaller", "lower the learning rate (--lr)"). */
#ifndef CLT_CLI_FLAG_NAMES_H
#define CLT_CLI_FLAG_NAMES_H

#include <stddef.h>

/* message with every known setting phrase replaced by its flag, into out (cut to size). */
void clt_cli_flag_names(const char *message, char *out, size_t size);

#endif
