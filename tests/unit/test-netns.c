/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure parts of netns/: port and subnet parsing, IPAM allocation, names, etc files, nft text. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "../../netns/netns.h"
#include "../../runtime/util.h"
#include "tap.h"

int main(void)
{
        ok(1, "placeholder");
        return done();
}
