export default { key: 'kv', title: 'kv', async run() { return { figures: {}, rows: [] }; } };
