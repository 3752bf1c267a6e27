/*
 * The clocks the daemons read: monotonic for intervals and timeouts,
 * realtime (Unix time) for what goes on the wire.
 */
#ifndef LR_LIB_CLOCK_H
#define LR_LIB_CLOCK_H

#include <stdint.h>

uint64_t	 clock_mono_us(void);
uint64_t	 clock_mono_ms(void);
uint64_t	 clock_wall_ms(void);

#endif
