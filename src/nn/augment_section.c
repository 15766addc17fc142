/* The [augment] section: parsing and the checks against the input shape (augment_section.h). */
#include "nn/augment_section.h"

#include <stdio.h>
#include <string.h>

static const char *const flip_names[] = {"none", "horizontal", NULL};

_Static_assert(sizeof flip_names / sizeof *flip_names == CLT_FLIP_COUNT + 1, "one name per flip");

const char *clt_flip_name(clt_flip flip) {
  return ((int)flip >= 0 && flip < CLT_FLIP_COUNT) ? flip_names[flip] : "?";
}

int clt_augment_active(const clt_recipe *r) {
  return r->augment_crop > 0 || r->augment_flip != CLT_FLIP_NONE;
}

const char *clt_augment_problem(const clt_recipe *r, char *buf, size_t size) {
  if (!clt_augment_active(r)) return NULL;
  if (r->in_h < 2 || r->in_w < 2) {
    snprintf(buf, size,
             "augmentation shifts and mirrors images, but the input %dx%dx%d is not an image "
             "(height and width must both be at least 2); remove the augmentation or give "
             "input = HxWxC with the image's height and width",
             r->in_h, r->in_w, r->in_c);
    return buf;
  }
  int side = r->in_h < r->in_w ? r->in_h : r->in_w;
  if (r->augment_crop < 0 || r->augment_crop >= side) {
    snprintf(buf, size,
             "crop padding %d does not fit the %dx%d image: use 0 (no crop) to %d pixels "
             "(typically 2 to 4)",
             r->augment_crop, r->in_h, r->in_w, side - 1);
    return buf;
  }
  return NULL;
}

const char *clt_augment_describe(const clt_recipe *r, char *buf, size_t size) {
  if (!clt_augment_active(r))
    snprintf(buf, size, "off");
  else if (r->augment_crop > 0 && r->augment_flip != CLT_FLIP_NONE)
    snprintf(buf, size, "crop %d, flip %s", r->augment_crop, clt_flip_name(r->augment_flip));
  else if (r->augment_crop > 0)
    snprintf(buf, size, "crop %d", r->augment_crop);
  else
    snprintf(buf, size, "flip %s", clt_flip_name(r->augment_flip));
  return buf;
}

clt_status clt_augment_section_parse(const clt_ini_section *sec, clt_recipe *r) {
  clt_recipe a = *r;
  int flip;
  CLT_TRY(
      clt_ini_get_int(sec, "crop_padding", 0, 0, CLT_INI_MAX_SHAPE_EXTENT - 1, &a.augment_crop));
  CLT_TRY(clt_ini_get_choice(sec, "flip", CLT_FLIP_NONE, flip_names, &flip));
  a.augment_flip = (clt_flip)flip;
  CLT_TRY(clt_ini_check_unused(sec));
  char why[320];
  if (clt_augment_problem(&a, why, sizeof why)) {
    if (a.in_h < 2 || a.in_w < 2) return clt_ini_section_fail(sec, "%s", why);
    return clt_ini_key_fail(sec, "crop_padding", "%s", why);
  }
  r->augment_crop = a.augment_crop;
  r->augment_flip = a.augment_flip;
  return CLT_OK;
}

clt_status clt_augment_from_ini(const clt_ini *ini, clt_recipe *r) {
  const clt_ini_section *found = NULL;
  for (int i = 1; i < ini->section_count; i++) {
    const clt_ini_section *sec = &ini->sections[i];
    if (strcmp(sec->name, CLT_AUGMENT_SECTION) != 0) continue;
    if (found)
      return clt_ini_section_fail(sec, "appears twice (the first is on line %d); keep one",
                                  found->line);
    found = sec;
  }
  r->augment_crop = 0;
  r->augment_flip = CLT_FLIP_NONE;
  return found ? clt_augment_section_parse(found, r) : CLT_OK;
}
