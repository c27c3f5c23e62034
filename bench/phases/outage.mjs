export async function outages() { return { notImplemented: true }; }
