#ifndef VB_APP_VERSION_H
#define VB_APP_VERSION_H

/* Release version, printed by "vaultbridge version". */
#define VB_VERSION "0.1.0"

#endif
