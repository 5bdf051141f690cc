export default { key: 'cache', title: 'cache', async run() { return { figures: {}, rows: [] }; } };
