export default { key: 'websocket', title: 'websocket', async run() { return { figures: {}, rows: [] }; } };
