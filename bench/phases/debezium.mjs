export async function debeziumBaseline() { return { notImplemented: true }; }
