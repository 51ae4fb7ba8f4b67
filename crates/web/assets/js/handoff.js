// Data handed from one screen to the next, kept in memory only (never in storage: it can hold ID details).

/** Fields for the new-customer form, e.g. from a scanned ID that matched nobody. */
export const handoff = { prefill: null, scanNotice: null };
