/* The subcommands of cltrain; each returns an exit code (cli/exit_codes.h). */
#ifndef CLT_CLI_COMMANDS_H
#define CLT_CLI_COMMANDS_H

typedef struct clt_command {
  const char *name;
  int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
  const char *summary;
} clt_command;

int clt_cmd_devices(int argc, char **argv);
int clt_cmd_train(int argc, char **argv);
int clt_cmd_eval(int argc, char **argv);
int clt_cmd_predict(int argc, char **argv);
int clt_cmd_check(int argc, char **argv);
int clt_cmd_bench(int argc, char **argv);
int clt_cmd_tune(int argc, char **argv);
int clt_cmd_export(int argc, char **argv);

#endif
